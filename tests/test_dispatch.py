"""Every consumer of a plan's blocks handles every block type (mypy checks the `assert_never` arms)."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest

from docagent.engine.plan import Block
from tests.plans import every_block

BLOCK_CLASS_LIST = typing.get_args(typing.get_args(Block)[0])
BLOCK_TYPES = {cls.model_fields["type"].default for cls in BLOCK_CLASS_LIST}
BLOCK_CLASSES = {cls.__name__ for cls in BLOCK_CLASS_LIST}
ROOT = Path(__file__).resolve().parent.parent
CODE = ["docagent", "api", "renderers", "pipeline", "workers", "cli"]


# Block types rendered in every format by their own tests rather than by the every-block plan.
RENDERED_ELSEWHERE = {
    "model": "tests/test_model_documents.py and tests/test_model_xlsx.py (financial models)",
    "image": "tests/test_documents.py (the worksheet plan, in every format)",
}


def test_the_completeness_plan_has_every_block_type():
    """The render-everything tests use this plan: a new block type must appear in it (or say where it is rendered)."""
    assert {b.type for b in every_block().blocks} | set(RENDERED_ELSEWHERE) == BLOCK_TYPES


def _name(node: ast.AST) -> str:
    """`Heading` or `plan.Heading`: the class a reference names."""
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _classes(node: ast.AST) -> set[str]:
    return {_name(m) for m in ast.walk(node)} & BLOCK_CLASSES


def _block_classes_dispatched(fn: ast.AST) -> set[str]:
    """Block classes one `match` (`case A():`) or one `if`/`elif isinstance(...)` chain tells apart, at most."""
    best: set[str] = set()
    for n in ast.walk(fn):
        found: set[str] = set()
        if isinstance(n, ast.Match):
            found = {_name(p.cls) for c in n.cases for p in ast.walk(c.pattern) if isinstance(p, ast.MatchClass)}
            found &= BLOCK_CLASSES
        elif isinstance(n, ast.If):
            branch: ast.AST | None = n
            while isinstance(branch, ast.If):
                for call in ast.walk(branch.test):
                    if (
                        isinstance(call, ast.Call)
                        and getattr(call.func, "id", "") == "isinstance"
                        and len(call.args) == 2
                    ):
                        found |= _classes(call.args[1])
                branch = branch.orelse[0] if len(branch.orelse) == 1 else None
        best = max(best, found, key=len)
    return best


def _dispatchers() -> dict[str, str]:
    """Every function in the code that tells three or more block types apart: 'path:function' -> source.
    Found by reading the code, so a new consumer is held to the rule without being listed here."""
    found: dict[str, str] = {}
    for folder in CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for fn in ast.walk(ast.parse(text)):
                if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and len(_block_classes_dispatched(fn)) >= 3:
                    found[f"{path.relative_to(ROOT)}:{fn.name}"] = ast.get_source_segment(text, fn) or ""
    return found


def test_the_scan_finds_the_known_consumers():
    """The scan itself can fail: it must see the consumers this test was written against."""
    found = _dispatchers()
    for known in (
        "docagent/engine/validate.py:problems",
        "docagent/engine/texts.py:block_texts",
        "renderers/word.py:block",
    ):
        assert known in found


@pytest.mark.parametrize("consumer", sorted(_dispatchers()))
def test_each_consumer_dispatches_in_one_exhaustive_match(consumer):
    """mypy then names every consumer that forgot a new block type (`assert_never` on the rest)."""
    source = _dispatchers()[consumer]
    assert "case _:\n" in source and "assert_never(" in source, f"{consumer}: end its match with case _: assert_never"
