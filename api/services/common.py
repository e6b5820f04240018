"""Owner checks shared by every service."""

from __future__ import annotations

from typing import TypeVar

from docagent.errors import NotFound
from docagent.service.store import session
from docagent.settings import Settings

T = TypeVar("T")


def owned(model: type[T], row_id: str, owner: str, settings: Settings, missing: type[NotFound], what: str) -> T:
    """The row if it exists and belongs to `owner`; another owner's object is "not found", never "forbidden"."""
    with session(settings) as s:
        row = s.get(model, row_id)
    if row is None or getattr(row, "owner", None) != owner:
        raise missing(f"{what} not found")
    return row
