"""The invented-number check tells the ordinary numbers of prose from figures typed from the data."""

from __future__ import annotations

from pathlib import Path

import pytest

from docagent.engine.plan import PLACEHOLDER, Plan
from docagent.engine.planners.numbers import NUMBER, invented_numbers
from docagent.engine.texts import plan_texts
from tests.plans import every_block

ROOT = Path(__file__).resolve().parent.parent

PROSE = [
    "Run a 30-day diagnostic before committing the budget.",
    "We make three recommendations; version 2 of the dashboard ships next.",
    "Start a 90‑day pilot in two regions, then review within 60 days.",
    "Phase 3 covers the 2nd wave; see section 14 and appendix 2.",
    "Hold a 45-minute review every 2 weeks and report by Q3 2027.",
    "Hire for the 24-month roadmap; 100% of managers attend the 6-week course.",
    "Step 20: close the 15th of each month, within 30 business days.",
    "By the end of 2028, open 3 stores; review in 2027.",
    "Offer 24/7 support after COVID-19; list the top 20 accounts and call them within 30–60 days.",
]
FIGURES = [
    ("Revenue reached 1,234,567 this year.", "1,234,567"),
    ("Gross margin was 38.2% in the quarter.", "38.2%"),
    ("The South sold $12.5M.", "$12.5"),
    ("Orders grew 14% on the previous quarter.", "14%"),
    ("Average order value is 412.37.", "412.37"),
    ("We served 437 customers.", "437"),
    ("Revenue {qoq|rose 14%|fell|was flat} in the quarter.", "14%"),  # hidden in sign-following words
]


def prose_plan(*texts: str) -> Plan:
    return Plan.model_validate({
        "meta": {"title": "Review"},
        "blocks": [{"type": "bullets", "items": list(texts)}],
    })  # fmt: skip


def test_ordinary_prose_numbers_are_not_false_alarms():
    assert invented_numbers(prose_plan(*PROSE), set()) == []


@pytest.mark.parametrize(("text", "figure"), FIGURES)
def test_a_figure_typed_from_the_data_is_still_caught(text, figure):
    (problem,) = invented_numbers(prose_plan(text), set())
    assert repr(figure) in problem


def example_plans() -> list[Plan]:
    prompt = (ROOT / "templates" / "prompts" / "planner_system.md").read_text(encoding="utf-8")
    found = [Plan.model_validate_json(line) for line in prompt.splitlines() if line.startswith('{"meta"')]
    found += [Plan.model_validate_json(p.read_text(encoding="utf-8")) for p in (ROOT / "examples").glob("plans/*.json")]
    return [*found, every_block(), prose_plan(*PROSE)]


def binds_data(plan: Plan) -> bool:
    """The planner checks prose numbers only when there is data to bind to (as LLMPlanner.check does)."""
    return any(m.dataset for m in plan.metrics) or any(getattr(b, "query", None) for b in plan.blocks)


def test_the_example_plans_raise_no_false_alarm():
    # plans written without data (a PRD from notes, a worksheet) type their request's numbers
    plans = [p for p in example_plans() if binds_data(p) or p.meta.title == "Review"]
    numbers = [m for p in plans for _, text in plan_texts(p) for m in NUMBER.finditer(PLACEHOLDER.sub(" ", text))]
    alarms = [a for p in plans for a in invented_numbers(p, set())]
    assert len(numbers) >= 15 and alarms == []  # the prose corpus alone holds 17 numbers


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image", "source": None, "alt": "A chart", "caption": "Revenue grew 47.3% to 8,412,000"},
        {"type": "image", "source": None, "alt": "Revenue grew 47.3% to 8,412,000"},
        {
            "type": "model",
            "title": "Plan",
            "periods": {"start": "2026", "count": 3},
            "rows": [{"name": "rev", "label": "Revenue (8,412,000 last year)", "formula": "1"}],
        },
    ],
    ids=["image caption", "alt text", "model row label"],
)
def test_a_figure_in_any_text_a_reader_sees_is_caught(block):
    plan = Plan.model_validate({"meta": {"title": "Review"}, "blocks": [block]})
    problems = invented_numbers(plan, set())
    assert any("'8,412,000'" in p for p in problems) and all(p.startswith("block 1 (") for p in problems)
