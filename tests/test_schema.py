"""The plan schema works for constrained decoding on real servers."""

from __future__ import annotations

import json
import subprocess
import sys

import llguidance
import pytest

from docagent.engine.plan import Plan
from docagent.engine.schema import plan_schema, plan_schema_json

REFUSED = {
    "multipleOf",
    "uniqueItems",
    "contains",
    "minContains",
    "maxContains",
    "patternProperties",
    "dependentRequired",
    "if",
    "then",
    "else",
    "not",
}
FORMATS_OK = {"date", "time", "date-time", "email", "uri", "uuid"}


def walk(node, path="#"):
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{path}/{i}")


def test_compiles_with_llguidance():
    grammar = llguidance.LLMatcher.grammar_from_json_schema(plan_schema_json())
    assert llguidance.LLMatcher.validate_grammar(grammar) == ""


def test_strict_mode_every_object_closed_and_fully_required():
    objects = [(p, n) for p, n in walk(plan_schema()) if n.get("type") == "object"]
    assert len(objects) > 10
    for path, node in objects:
        assert node.get("additionalProperties") is False, path
        assert sorted(node["required"]) == sorted(node["properties"]), path


def test_no_keywords_xgrammar_refuses_or_drops():
    for path, node in walk(plan_schema()):
        if "properties" in path.rsplit("/", 1)[-1]:
            continue
        assert not (REFUSED & set(node)), (path, REFUSED & set(node))
        assert node.get("format", "date") in FORMATS_OK, path
        if "pattern" in node:
            assert not {"minLength", "maxLength"} & set(node), path


def test_optional_values_are_nullable_not_omittable():
    chart = plan_schema()["$defs"]["Chart"]["properties"]
    assert chart["caption"] == {"type": ["string", "null"]}
    assert {"type": "null"} in chart["query"]["anyOf"]


def test_compact():
    """It is sent with every request: the language grew (params, measures, pivots, templates, bursts), the budget is 14,000."""
    assert len(plan_schema_json()) <= 14000


def test_a_plan_filled_in_strictly_validates():
    """Output that follows the schema to the letter (every key, nulls) is a valid Plan."""
    plan = {
        "meta": {
            "title": "T",
            "subtitle": None,
            "author": None,
            "language": "en",
            "theme": None,
            "kind": "report",
            "currency": "USD",
        },
        "metrics": [],
        "blocks": [
            {"type": "heading", "text": "H", "level": 1},
            {
                "type": "table",
                "title": "t",
                "caption": None,
                "query": None,
                "columns": ["a"],
                "rows": [["x"]],
                "totals": False,
            },
        ],
    }
    assert Plan.model_validate(plan).blocks[1].rows == [["x"]]


@pytest.mark.parametrize("cmd", [["schema"]])
def test_cli_prints_the_schema(cmd):
    out = subprocess.run(
        [sys.executable, "-m", "docagent.cli.main", *cmd], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == plan_schema()


def test_the_lean_schema_requires_only_what_has_no_default_and_compiles():
    from docagent.engine.schema import lean_plan_schema

    lean = lean_plan_schema()
    defs = lean["$defs"]
    assert defs["Select"]["required"] == [] and defs["Heading"]["required"] == ["type", "text"]
    assert all("type" in d["required"] for n, d in defs.items() if "const" in d.get("properties", {}).get("type", {}))
    assert {k: v for k, v in lean.items() if k != "$defs" and k != "required"} == {
        k: v for k, v in plan_schema().items() if k != "$defs" and k != "required"
    }
    grammar = llguidance.LLMatcher.grammar_from_json_schema(json.dumps(lean))
    assert llguidance.LLMatcher.validate_grammar(grammar) == ""


def test_the_prompt_shows_every_property_and_marks_what_must_be_written():
    from docagent.engine.llm.prompt import system_prompt
    from docagent.engine.schema import lean_plan_schema, prompt_schema_json

    shown = json.loads(prompt_schema_json())
    assert system_prompt().endswith(prompt_schema_json())
    assert "additionalProperties" not in prompt_schema_json()
    strict = plan_schema()
    for name, d in strict["$defs"].items():
        assert shown["$defs"][name].get("properties", {}).keys() == d.get("properties", {}).keys(), name
        assert shown["$defs"][name].get("required", []) == lean_plan_schema()["$defs"][name].get("required", [])
    assert shown["$defs"]["Table"]["required"] == ["type", "title"]
    assert len(prompt_schema_json()) < len(plan_schema_json()) - 1500
