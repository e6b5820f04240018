"""Every consumer of a plan's blocks handles every block type (mypy checks the `assert_never` arms)."""

from __future__ import annotations

import inspect
import typing

import pytest

from docagent.plan import Block
from docagent.renderers.common import all_text
from docagent.renderers.excel import Builder as ExcelBuilder
from docagent.renderers.pdf import Builder as PdfBuilder
from docagent.renderers.word import Builder as WordBuilder
from docagent.validate import problems
from tests.plans import every_block

BLOCK_TYPES = {cls.model_fields["type"].default for cls in typing.get_args(typing.get_args(Block)[0])}


# Block types rendered in every format by their own tests rather than by the every-block plan.
RENDERED_ELSEWHERE = {
    "model": "tests/test_model_documents.py and tests/test_model_xlsx.py (financial models)",
    "image": "tests/test_documents.py (the worksheet plan, in every format)",
}


def test_the_completeness_plan_has_every_block_type():
    """The render-everything tests use this plan: a new block type must appear in it (or say where it is rendered)."""
    assert {b.type for b in every_block().blocks} | set(RENDERED_ELSEWHERE) == BLOCK_TYPES


@pytest.mark.parametrize(
    "consumer",
    [problems, WordBuilder.block, PdfBuilder.block, ExcelBuilder.summary, all_text],
    ids=repr,
)
def test_each_consumer_dispatches_in_one_exhaustive_match(consumer):
    source = inspect.getsource(consumer)
    assert source.count("match ") == 1 and "case _:\n" in source and "assert_never(" in source
