"""The expression grammar: what parses, what is refused, and that text round-trips."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docagent.engine.expr import Binary, Call, Name, Num, Str, Unary, parse, unparse, walk
from docagent.errors import ExprError


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("sum(revenue)", Call("sum", (Name(("revenue",)),))),
        ("count()", Call("count", ())),
        ("SUM(x)", Call("sum", (Name(("x",)),))),
        ("1 + 2 * 3", Binary("+", Num(1, "1"), Binary("*", Num(2, "2"), Num(3, "3")))),
        ("(1 + 2) * 3", Binary("*", Binary("+", Num(1, "1"), Num(2, "2")), Num(3, "3"))),
        ("a - b - c", Binary("-", Binary("-", Name(("a",)), Name(("b",))), Name(("c",)))),
        ("-x", Unary("-", Name(("x",)))),
        ('sum("Chiffre d\'affaires")', Call("sum", (Name(("Chiffre d'affaires",)),))),
        ('sum("收入（万元）")', Call("sum", (Name(("收入（万元）",)),))),
        ('"say ""hi"""', Name(('say "hi"',))),
        ("headcount.staff", Name(("headcount", "staff"))),
        ('"Revenue build".revenue', Name(("Revenue build", "revenue"))),
        ("营业收入", Name(("营业收入",))),
        ("'South'", Str("South")),
        ("'it''s'", Str("it's")),
        ("a <> b", Binary("!=", Name(("a",)), Name(("b",)))),
        ("a == b", Binary("=", Name(("a",)), Name(("b",)))),
        ("not a > 1 and b", Binary("and", Unary("not", Binary(">", Name(("a",)), Num(1, "1"))), Name(("b",)))),
        ("1.5e3", Num(1500.0, "1.5e3")),
        ("if(x >= 0, x, 0)", Call("if", (Binary(">=", Name(("x",)), Num(0, "0")), Name(("x",)), Num(0, "0")))),
    ],
)
def test_parses_to_tree(text, tree):
    assert parse(text) == tree


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("sum(revenue); DROP TABLE x", "unexpected character ';'"),
        ("__import__('os')", "may not start with '__'"),
        ("(" * 200 + "1" + ")" * 200, "nested too deeply"),
        ("1+" * 60_000 + "1", "longer than 2000"),
        ("sum(revenue", "expected ')' at the end"),
        ("sum(revenue) revenue", "unexpected at position 14"),
        ("a < b < c", "cannot be chained"),
        ('"unterminated', "unexpected character"),
        ('""', "empty quoted name"),
        ("x[0]", "unexpected character '['"),
        ("`x`", "unexpected character '`'"),
        ("a.b(1)", "only a plain function name"),
        ("", "empty expression"),
        ("and", "is an operator, not a name"),
        ("-" * 100 + "1", "nested too deeply"),
        ("+".join(["x"] * 500), "too large"),
    ],
)
def test_refuses_with_a_message_that_says_where(text, says):
    with pytest.raises(ExprError) as e:
        parse(text)
    assert says in str(e.value)


def test_error_pickles_for_celery():
    with pytest.raises(ExprError) as e:
        parse("sum(;")
    again = pickle.loads(pickle.dumps(e.value))
    assert str(again) == str(e.value) and again.message == e.value.message


def test_walk_visits_every_node_parent_first():
    tree = parse("(sum(revenue) - sum(cost)) / sum(revenue)")
    kinds = [type(n).__name__ for n in walk(tree)]
    assert kinds == ["Binary", "Binary", "Call", "Name", "Call", "Name", "Call", "Name"]
    assert {n.dotted for n in walk(tree) if isinstance(n, Name)} == {"revenue", "cost"}


@pytest.mark.parametrize(
    "text",
    [
        "a - (b - c)",
        "(a + b) * c",
        "-(a + b)",
        "not (a or b)",
        "(a < b) = (c < d)",
        '"Revenue build"."net cash" / 2',
        "if(prev(cash) < 0, 'x', round(a, 2))",
    ],
)
def test_unparse_round_trips(text):
    tree = parse(text)
    assert parse(unparse(tree)) == tree


names = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8).filter(str.strip)
leaves = st.one_of(
    st.builds(lambda p: Name(tuple(p)), st.lists(names, min_size=1, max_size=2)),
    st.integers(0, 10**6).map(lambda i: Num(float(i), str(i))),
    st.text(max_size=6).map(Str),
)
trees = st.recursive(
    leaves,
    lambda kids: st.one_of(
        st.builds(Binary, st.sampled_from(["+", "-", "*", "/", "<", "=", "and", "or"]), kids, kids),
        st.builds(Unary, st.sampled_from(["-", "not"]), kids),
        st.builds(lambda f, a: Call(f, tuple(a)), st.sampled_from(["sum", "if", "max"]), st.lists(kids, max_size=3)),
    ),
    max_leaves=12,
)


@given(trees)
def test_any_tree_round_trips_through_text(tree):
    assert parse(unparse(tree)) == tree
