"""Plans as templates: parse a given plan with every problem named, hash it, diff two plans.

A plan holds bindings, never figures, so the same plan bound to next week's data
is next week's report. These helpers work on the plan's JSON form, so they keep
working when new block types join the union.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from docagent.engine.data.catalog import Catalog
from docagent.engine.plan import Plan
from docagent.engine.validate import problems as semantic_problems
from docagent.engine.validate import schema_problems
from docagent.errors import PlanError


def label(block: Any, index: int) -> str:
    """How a person recognises a block: its number, type and title or first words."""
    if not isinstance(block, dict):
        return f"block {index}"
    kind = block.get("type", "block")
    name = block.get("title") or block.get("text") or block.get("heading")
    if not name and isinstance(block.get("items"), list) and block["items"]:
        first = block["items"][0]
        name = first.get("label") or first.get("metric") if isinstance(first, dict) else first
    if isinstance(name, str) and name.strip():
        short = name.strip().splitlines()[0]
        return f"block {index} ({kind} {short[:60]!r})"
    return f"block {index} ({kind})"


def parse(data: Any) -> Plan:
    """A plan object from JSON; PlanError listing every schema problem, located by block title."""
    if not isinstance(data, dict):
        raise PlanError([f"a plan is a JSON object with meta and blocks, not {type(data).__name__}"])
    found = schema_problems(data)
    if found:
        raise PlanError(found)
    return Plan.model_validate(data)


def check(data: Any, catalog: Catalog) -> Plan:
    """Parse, then check against the data; PlanError with every problem found."""
    plan = parse(data)
    found = semantic_problems(plan, catalog)
    if found:
        raise PlanError(found)
    return plan


def plan_hash(plan: Plan | dict[str, Any]) -> str:
    """SHA-256 of the plan's canonical JSON: the same plan always hashes the same."""
    data = plan.model_dump(mode="json") if isinstance(plan, Plan) else Plan.model_validate(plan).model_dump(mode="json")
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class PlanDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    meta_changed: list[str] = field(default_factory=list)  # meta fields whose value changed
    metrics_changed: list[str] = field(default_factory=list)  # metric names added, removed or redefined

    def as_dict(self) -> dict[str, list[str]]:
        return asdict(self)


def _key(block: Any) -> str:
    return json.dumps(block, sort_keys=True, ensure_ascii=False)


def diff(old: Plan | dict[str, Any], new: Plan | dict[str, Any]) -> PlanDiff:
    """Blocks added, removed and changed (a block of the same type in the same place), by label."""
    a = old.model_dump(mode="json") if isinstance(old, Plan) else old
    b = new.model_dump(mode="json") if isinstance(new, Plan) else new
    ab, bb = a.get("blocks") or [], b.get("blocks") or []
    out = PlanDiff()
    matcher = difflib.SequenceMatcher(a=[_key(x) for x in ab], b=[_key(x) for x in bb], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        olds, news = list(range(i1, i2)), list(range(j1, j2))
        while olds and news and ab[olds[0]].get("type") == bb[news[0]].get("type"):
            olds.pop(0)
            j = news.pop(0)
            out.changed.append(label(bb[j], j + 1))
        out.removed += [label(ab[i], i + 1) for i in olds]
        out.added += [label(bb[j], j + 1) for j in news]
    ma, mb = a.get("meta") or {}, b.get("meta") or {}
    out.meta_changed = sorted(k for k in set(ma) | set(mb) if ma.get(k) != mb.get(k))
    da = {m.get("name"): m for m in a.get("metrics") or []}
    db = {m.get("name"): m for m in b.get("metrics") or []}
    out.metrics_changed = sorted(str(n) for n in set(da) | set(db) if da.get(n) != db.get(n))
    return out


__all__ = ["PlanDiff", "check", "diff", "label", "parse", "plan_hash"]
