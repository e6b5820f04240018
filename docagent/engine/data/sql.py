"""SQL text helpers. Identifiers are always quoted; values always go in as parameters."""

from __future__ import annotations


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
