"""Words that follow the data: {name|if positive|if negative|if zero} and {name:abs}."""

from __future__ import annotations

import pytest

from docagent.engine.data.catalog import Catalog
from docagent.engine.formatting import fill, format_value
from docagent.engine.plan import Plan, malformed_placeholders, placeholders
from docagent.engine.validate import problems
from tests.conftest import EXAMPLE

SENTENCE = "Revenue {qoq|rose|fell|was flat} {qoq:abs} on the previous quarter."


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.052, "Revenue rose 5.2% on the previous quarter."),
        (-0.031, "Revenue fell 3.1% on the previous quarter."),
        (0.0, "Revenue was flat 0.0% on the previous quarter."),
        (0.0001, "Revenue was flat 0.0% on the previous quarter."),  # words follow what is shown
    ],
)
def test_sign_words_follow_the_bound_value(value, expected):
    assert fill(SENTENCE, {"qoq": format_value(value, "percent")}) == expected


def test_a_missing_value_shows_a_dash_not_a_direction():
    assert fill("Sales {qoq|rose|fell|held}.", {"qoq": format_value(None, "percent")}) == "Sales –."


def test_sign_words_work_in_chinese_and_with_currency():
    assert fill("收入{d|增长|下降|持平}", {"d": format_value(-1200, "currency")}) == "收入下降"
    assert fill("{d:abs}", {"d": format_value(-1200, "currency")}) == "$1,200.00"


def test_sign_word_placeholders_name_their_metric():
    assert placeholders(SENTENCE) == ["qoq", "qoq"]


@pytest.mark.parametrize("bad", ["{qoq|up|down}", "{qoq:round}", "{qoq|a|b|c|d}"])
def test_malformed_sign_words_are_reported(bad):
    assert malformed_placeholders(f"Sales {bad}.") == [bad]


def test_the_validator_explains_a_malformed_sign_word_placeholder():
    plan = Plan.model_validate({
        "meta": {"title": "Sales"},
        "metrics": [{"name": "total", "label": "Total", "dataset": "sales", "agg": "count"}],
        "blocks": [{"type": "paragraph", "text": "Sales {total|rose|fell}."}],
    })  # fmt: skip
    with Catalog() as c:
        c.ingest(EXAMPLE)
        found = problems(plan, c)
    assert len(found) == 1 and "{total|rose|fell} is not a placeholder" in found[0]
    assert "{qoq|rose|fell|was flat}" in found[0]
