"""Lenient parsing of model output: think blocks, code fences, raw newlines in strings."""

from __future__ import annotations

import json
import re
from typing import Any

from docagent.errors import NotJSON

THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S | re.I)


def strip_thinking(text: str) -> str:
    text = THINK.sub("", text)
    if "</think>" in text.lower():  # the opening tag was eaten by a template: keep what follows
        text = re.split(r"</think>", text, flags=re.I)[-1]
    return text.strip()


def extract_json(text: str) -> Any:
    text = strip_thinking(text)
    fenced = FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise NotJSON("the reply contains no JSON object")
    try:
        return json.loads(text[start : end + 1], strict=False)
    except json.JSONDecodeError as e:
        raise NotJSON(f"the reply is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
