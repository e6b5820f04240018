"""Provenance: what made an artifact, so a frozen schedule's output can be reproduced exactly.

Recorded per artifact: the plan's hash, each dataset's id, name, version and
content hash, and docagent's version.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from docagent.engine.plan import Plan
from docagent.engine.planfile import plan_hash


@lru_cache
def docagent_version() -> str:
    try:
        return metadata.version("docagent")
    except metadata.PackageNotFoundError:  # a source checkout that was never installed
        return "0+unknown"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def provenance(plan: Plan, datasets: list[dict[str, Any]]) -> dict[str, Any]:
    """datasets: {"id", "name", "version", "sha256"} for each dataset the job read."""
    return {"plan_sha256": plan_hash(plan), "datasets": datasets, "docagent_version": docagent_version()}


__all__ = ["docagent_version", "file_sha256", "provenance"]
