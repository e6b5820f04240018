"""The plan's JSON Schema in the form constrained decoders accept.

Strict-mode rules (OpenAI, vLLM, SGLang): every object closes with
``additionalProperties: false`` and lists every property as required; optional
values are nullable instead. Titles, defaults and descriptions of obvious fields
are dropped to keep the schema small: it is sent with every request.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from docagent.plan import Plan

_DROP = {"title", "default", "discriminator"}


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items() if k not in _DROP}
    if "properties" in node:  # property names are data, not keywords: keep them all
        out["properties"] = {k: _strict(v) for k, v in node["properties"].items()}
    if "oneOf" in out:  # pydantic's discriminated union; each branch has a constant tag
        out["anyOf"] = out.pop("oneOf")
    if out.get("type") == "object" or "properties" in out:
        out["additionalProperties"] = False
        out["required"] = list(out.get("properties", {}))
    if "const" in out and "enum" in out:
        out.pop("enum")
    return out


@lru_cache
def plan_schema() -> dict[str, Any]:
    return _strict(Plan.model_json_schema())


def plan_schema_json() -> str:
    return json.dumps(plan_schema(), separators=(",", ":"), ensure_ascii=False)
