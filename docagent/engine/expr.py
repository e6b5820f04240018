"""The one expression grammar of the plan language: parsed here, never evaluated here.

Expressions in plans (computed measures, financial-model rows) are text a model
wrote. They are tokenised and parsed into a small tree of frozen nodes; each
consumer (the SQL compiler, the model evaluator, the formula writer) walks the
tree and checks function names against its own whitelist. Nothing is `eval`ed
and no text is pasted into SQL or formulas: names become quoted identifiers or
cell references, numbers become parameters or literals.

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("<" | "<=" | ">" | ">=" | "=" | "==" | "!=" | "<>") sum)?
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := ("-" | "+") unary | atom
    atom    := NUMBER | 'text' | name ("(" args? ")")? | "(" expr ")"
    name    := part ("." part)*      part := IDENT | "double-quoted"
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from docagent.errors import ExprError

MAX_LENGTH = 2000
MAX_DEPTH = 40
MAX_NODES = 400

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_\u00c0-\uffff][A-Za-z0-9_\u00c0-\uffff]*)
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<text>'(?:[^']|'')*')
  | (?P<op><=|>=|<>|!=|==|[-+*/()<>=,.])
    """,
    re.VERBOSE,
)
_COMPARE = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "=": "=", "==": "=", "!=": "!=", "<>": "!="}
_KEYWORDS = {"and", "or", "not"}


@dataclass(frozen=True)
class Num:
    value: float
    text: str


@dataclass(frozen=True)
class Str:
    value: str


@dataclass(frozen=True)
class Name:
    parts: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


Node = Num | Str | Name | Call | Unary | Binary


@dataclass(frozen=True)
class _Tok:
    kind: str  # number | ident | quoted | text | op | end
    text: str
    pos: int


def _tokens(text: str) -> list[_Tok]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExprError(text, f"unexpected character {text[pos]!r} at position {pos + 1}")
        kind = m.lastgroup or ""
        if kind != "space":
            out.append(_Tok(kind, m.group(), pos))
        pos = m.end()
    out.append(_Tok("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0
        self.nodes = 0

    def fail(self, what: str, tok: _Tok | None = None) -> ExprError:
        tok = tok or self.peek
        where = "at the end" if tok.kind == "end" else f"at position {tok.pos + 1} ({tok.text!r})"
        return ExprError(self.text, f"{what} {where}")

    @property
    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def accept(self, *texts: str) -> _Tok | None:
        tok = self.peek
        if tok.kind in ("op", "ident") and tok.text.lower() in texts:
            return self.take()
        return None

    def expect(self, text: str) -> None:
        if self.accept(text) is None:
            raise self.fail(f"expected {text!r}")

    def node(self, n: Node) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExprError(self.text, f"expression is too large (more than {MAX_NODES} parts)")
        return n

    def parse(self) -> Node:
        n = self.expr()
        if self.peek.kind != "end":
            raise self.fail("unexpected")
        return n

    def expr(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(self.text, f"expression is nested too deeply (more than {MAX_DEPTH} levels)")
        try:
            return self.or_()
        finally:
            self.depth -= 1

    def or_(self) -> Node:
        n = self.and_()
        while self.accept("or"):
            n = self.node(Binary("or", n, self.and_()))
        return n

    def and_(self) -> Node:
        n = self.not_()
        while self.accept("and"):
            n = self.node(Binary("and", n, self.not_()))
        return n

    def not_(self) -> Node:
        if self.accept("not"):
            return self.node(Unary("not", self.nested(self.not_)))
        return self.compare()

    def compare(self) -> Node:
        n = self.sum()
        tok = self.peek
        if tok.kind == "op" and tok.text in _COMPARE:
            self.take()
            n = self.node(Binary(_COMPARE[tok.text], n, self.sum()))
            nxt = self.peek
            if nxt.kind == "op" and nxt.text in _COMPARE:
                raise self.fail("comparisons cannot be chained; combine them with 'and'")
        return n

    def sum(self) -> Node:
        n = self.product()
        while (tok := self.accept("+", "-")) is not None:
            n = self.node(Binary(tok.text, n, self.product()))
        return n

    def product(self) -> Node:
        n = self.unary()
        while (tok := self.accept("*", "/")) is not None:
            n = self.node(Binary(tok.text, n, self.unary()))
        return n

    def nested(self, rule: Callable[[], Node]) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(self.text, f"expression is nested too deeply (more than {MAX_DEPTH} levels)")
        try:
            return rule()
        finally:
            self.depth -= 1

    def unary(self) -> Node:
        if (tok := self.accept("-", "+")) is not None:
            return self.node(Unary(tok.text, self.nested(self.unary)))
        return self.atom()

    def atom(self) -> Node:
        tok = self.peek
        if tok.kind == "number":
            self.take()
            return self.node(Num(float(tok.text), tok.text))
        if tok.kind == "text":
            self.take()
            return self.node(Str(tok.text[1:-1].replace("''", "'")))
        if self.accept("("):
            n = self.expr()
            self.expect(")")
            return n
        if tok.kind in ("ident", "quoted"):
            return self.name_or_call()
        raise self.fail("expected a number, a name or '('")

    def part(self) -> str:
        tok = self.take()
        if tok.kind == "quoted":
            name = tok.text[1:-1].replace('""', '"')
            if not name.strip():
                raise self.fail("empty quoted name", tok)
            return name
        if tok.kind != "ident":
            raise self.fail("expected a name", tok)
        if tok.text.lower() in _KEYWORDS:
            raise self.fail(f"{tok.text!r} is an operator, not a name", tok)
        if tok.text.startswith("__"):
            raise self.fail("names may not start with '__'", tok)
        return tok.text

    def name_or_call(self) -> Node:
        first = self.peek
        parts = [self.part()]
        while self.accept("."):
            parts.append(self.part())
        if self.accept("("):
            if len(parts) > 1 or first.kind != "ident":
                raise self.fail("only a plain function name can be called", first)
            args: list[Node] = []
            if self.accept(")") is None:
                args.append(self.expr())
                while self.accept(","):
                    args.append(self.expr())
                self.expect(")")
            return self.node(Call(parts[0].lower(), tuple(args)))
        return self.node(Name(tuple(parts)))


def parse(text: str) -> Node:
    """Parse one expression; `ExprError` says what is wrong and where."""
    if not isinstance(text, str) or not text.strip():
        raise ExprError(str(text), "empty expression")
    if len(text) > MAX_LENGTH:
        raise ExprError(text[:60] + "…", f"expression is longer than {MAX_LENGTH} characters")
    return _Parser(text).parse()


def children(node: Node) -> tuple[Node, ...]:
    match node:
        case Call(args=args):
            return args
        case Unary(operand=operand):
            return (operand,)
        case Binary(left=left, right=right):
            return (left, right)
        case _:
            return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node, parents before children."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))


def _part(p: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p) and p.lower() not in _KEYWORDS and not p.startswith("__"):
        return p
    return '"' + p.replace('"', '""') + '"'


_PRECEDENCE = {"or": 1, "and": 2, "=": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6}


def unparse(node: Node, parent: int = 0) -> str:
    """Canonical text of a tree; parse(unparse(t)) == t."""
    match node:
        case Num(text=text):
            return text
        case Str(value=value):
            return "'" + value.replace("'", "''") + "'"
        case Name(parts=parts):
            return ".".join(_part(p) for p in parts)
        case Call(func=func, args=args):
            return f"{func}({', '.join(unparse(a) for a in args)})"
        case Unary(op=op, operand=operand):
            inner = unparse(operand, 7 if op != "not" else 3)
            text = f"not {inner}" if op == "not" else f"{op}{inner}"
            return f"({text})" if parent > (3 if op == "not" else 7) else text
        case Binary(op=op, left=left, right=right):
            p = _PRECEDENCE[op]
            # left-associative: the right operand needs brackets at equal precedence;
            # comparisons do not chain, so both sides of one do
            text = f"{unparse(left, p + 1 if p == 4 else p)} {op} {unparse(right, p + 1)}"
            return f"({text})" if parent > p else text
    raise TypeError(f"not an expression node: {node!r}")


__all__ = [
    "Binary",
    "Call",
    "ExprError",
    "Name",
    "Node",
    "Num",
    "Str",
    "Unary",
    "children",
    "parse",
    "unparse",
    "walk",
]
