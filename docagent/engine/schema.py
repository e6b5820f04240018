"""The plan's JSON Schema in the form constrained decoders accept.

Strict-mode rules (OpenAI, vLLM, SGLang): every object closes with
``additionalProperties: false`` and lists every property as required; optional
values are nullable instead. Titles, defaults and descriptions of obvious fields
are dropped to keep the schema small: it is sent with every request.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from typing import Any

from docagent.engine.plan import HIDDEN, Plan

# Numeric bounds and length limits are checked by the plan model, whose message says which and why;
# every request pays for the schema, so they are not repeated in it.
_DROP = {"title", "default", "discriminator", "minimum", "maximum", "maxItems", "minLength", "maxLength"}
# Class docstrings whose rule the system prompt already states (rules 4-6, 9): every request pays for
# the schema, so they are said once, there.
_SAID_IN_PROMPT = {"Select", "Unpivot", "Query", "QueryPeriod", "Metric", "Table", "Chart", "Param", "Measure"}


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items() if k not in _DROP}
    if "properties" in node:  # property names are data, not keywords: keep them all, bar hand-written-only ones
        out["properties"] = {k: _strict(v) for k, v in node["properties"].items() if not v.get(HIDDEN)}
    if "oneOf" in out:  # pydantic's discriminated union; each branch has a constant tag
        out["anyOf"] = out.pop("oneOf")
    if out.get("type") == "object" or "properties" in out:
        out["additionalProperties"] = False
        out["required"] = list(out.get("properties", {}))
    if "const" in out and "enum" in out:
        out.pop("enum")
    if "const" in out:  # a constant names its own type
        out.pop("type", None)
    return _nullable(out)


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    """anyOf [{type: T}, {type: null}] -> type [T, null]: the same constraint, half the characters
    (strict mode, llguidance and xgrammar all read type arrays). A union of bare types is one type
    array too (integer goes where number is: every integer is a number)."""
    branches = node.get("anyOf")
    if branches and all(set(b) == {"type"} and isinstance(b["type"], str) for b in branches):
        types = [b["type"] for b in branches]
        types = [t for t in types if not (t == "integer" and "number" in types)]
        return {"type": types if len(types) > 1 else types[0], **{k: v for k, v in node.items() if k != "anyOf"}}
    if not branches or len(branches) != 2 or {"type": "null"} not in branches:
        return node
    other = branches[0] if branches[1] == {"type": "null"} else branches[1]
    if set(other) != {"type"} or not isinstance(other["type"], str):
        return node
    return {"type": [other["type"], "null"], **{k: v for k, v in node.items() if k != "anyOf"}}


def _refs(node: Any) -> list[dict[str, Any]]:
    """Every {"$ref": ...} or {"anyOf": [{"$ref": ...}, {"type": "null"}]} use of a definition."""
    if isinstance(node, list):
        return [r for n in node for r in _refs(n)]
    if not isinstance(node, dict):
        return []
    if "$ref" in node or ("anyOf" in node and any("$ref" in b for b in node["anyOf"])):
        return [node]
    return [r for v in node.values() for r in _refs(v)]


def _null_in_enums(schema: dict[str, Any]) -> dict[str, Any]:
    """An enum used only as "X or null" takes null among its values: each use is then a bare $ref
    (about 30 characters less per use; the same constraint)."""
    uses = _refs(schema)
    for name, d in schema["$defs"].items():
        ref = f"#/$defs/{name}"
        mine = [u for u in uses if u.get("$ref") == ref or any(b.get("$ref") == ref for b in u.get("anyOf", []))]
        if "enum" not in d or not mine or any("$ref" in u for u in mine):
            continue
        if any(len(u) != 1 or u["anyOf"] != [{"$ref": ref}, {"type": "null"}] for u in mine):
            continue
        d["enum"] = [*d["enum"], None]
        d.pop("type", None)  # the values say it
        for u in mine:
            u.pop("anyOf")
            u["$ref"] = ref
    return schema


@lru_cache
def plan_schema() -> dict[str, Any]:
    schema = Plan.model_json_schema()
    for name in _SAID_IN_PROMPT:
        schema["$defs"][name].pop("description", None)
    return _null_in_enums(_strict(schema))


def plan_schema_json() -> str:
    return json.dumps(plan_schema(), separators=(",", ":"), ensure_ascii=False)


@lru_cache
def lean_plan_schema() -> dict[str, Any]:
    """The same closed schema requiring only what has no default (and each block's "type" tag).

    For grammar-constrained servers (vLLM, SGLang, llama.cpp), whose decoders do not demand that every
    property be required: the model may leave nulls and defaults out, where the strict form makes it
    write every one (a plan's largest share of output tokens)."""
    schema = copy.deepcopy(plan_schema())
    source = Plan.model_json_schema()
    for name, d in schema["$defs"].items():
        props = d.get("properties")
        if props is None:
            continue
        needed = set(source["$defs"][name].get("required", []))
        needed |= {k for k, v in props.items() if "const" in v}  # the discriminator picks the block type
        d["required"] = [k for k in props if k in needed]
    schema["required"] = [k for k in schema["properties"] if k in source.get("required", [])]
    return schema


def _open(node: Any) -> Any:
    if isinstance(node, list):
        return [_open(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _open(v) for k, v in node.items() if k != "additionalProperties"}
    if out.get("required") == []:
        out.pop("required")
    if "properties" in out and out.get("type") == "object":  # the properties say it
        out.pop("type")
    return out


@lru_cache
def prompt_schema_json() -> str:
    """The schema as the system prompt shows it: the lean form (what must be written, what may be left out)
    without the repeated "additionalProperties": false, which the prompt states once, nor "type": "object"
    beside "properties". The decoder still enforces the strict or lean form that response_format carries;
    this is for the model's reading, and some 1,700 characters (about 560 tokens) shorter on every request."""
    return json.dumps(_open(lean_plan_schema()), separators=(",", ":"), ensure_ascii=False)
