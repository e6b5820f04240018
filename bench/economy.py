"""Plan economy: strict output tokens for the example plans and four realistic requests.

"Strict" is what a model writes under the strict schema: every property the schema lists, nulls and
defaults included. Each new plan is also counted written out without `measures` and `params`
(expressions and numbers repeated where used), the form the language forced before.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import tempfile
from pathlib import Path
from typing import Any

from bench.common import Row, ratio
from docagent.engine.data.catalog import Catalog
from docagent.engine.measures import resolve
from docagent.engine.plan import Plan
from docagent.engine.schema import plan_schema
from docagent.engine.validate import problems

ROOT = Path(__file__).resolve().parent.parent
PLANS = Path(__file__).parent / "plans"
BUDGET = 4096  # the output budget docagent asked for before output budgets followed the provider


def _resolve_ref(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[1]]
    return node


def strict(value: Any, node: dict[str, Any], defs: dict[str, Any]) -> Any:
    """`value` as a strict model writes it: each object with every property its schema lists."""
    node = _resolve_ref(node, defs)
    if isinstance(value, dict):
        branches = node.get("anyOf", [node])
        for b in branches:
            b = _resolve_ref(b, defs)
            props = b.get("properties")
            if props is None:
                continue
            tag = props.get("type", {}).get("const")
            if tag is not None and value.get("type") != tag:
                continue
            return {k: strict(value.get(k), p, defs) for k, p in props.items()}
        return value
    if isinstance(value, list):
        items = node.get("items")
        if items is None:
            items = next((_resolve_ref(b, defs).get("items") for b in node.get("anyOf", []) if "items" in b), {})
        return [strict(v, items or {}, defs) for v in value]
    return value


def strict_json(plan: Plan) -> str:
    schema = plan_schema()
    data = strict(plan.model_dump(mode="json"), schema, schema["$defs"])
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def lean_json(plan: Plan) -> str:
    """What a model writes under the lean schema (grammar servers): defaults and nulls left out,
    each block's type kept."""
    data = plan.model_dump(mode="json", exclude_defaults=True)
    for raw, block in zip(data["blocks"], plan.blocks, strict=True):
        raw["type"] = block.type
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def written_out(plan: Plan) -> Plan:
    """The same content without measures and params: each use carries the whole expression or number."""
    full, _ = resolve(plan)
    return full.model_copy(update={"measures": [], "params": []})


def make_data(folder: Path) -> list[Path]:
    """Deterministic data for the four requests (orders, store sales, budget and actual, headcount)."""
    rnd = random.Random(7)
    months = [dt.date(2024 + (m - 1) // 12, (m - 1) % 12 + 1, 1) for m in range(1, 19)]
    files: dict[str, list[list[Any]]] = {
        "orders.csv": [["order_date", "customer", "region", "category", "revenue", "cost"]],
        "stores.csv": [["月份", "门店", "品类", "销售额"]],
        "budget.csv": [["month", "centre", "amount"]],
        "actual.csv": [["month", "centre", "amount"]],
        "headcount.csv": [["month", "department", "site", "headcount"]],
    }
    customers = [f"Customer {c}" for c in "ABCDEFGHIJKLMNOP"]
    for d in months:
        for _ in range(60):
            rev = round(rnd.uniform(200, 5000), 2)
            day = d + dt.timedelta(days=rnd.randint(0, 27))
            files["orders.csv"].append(
                [
                    day,
                    rnd.choice(customers),
                    rnd.choice(["North", "South", "West"]),
                    rnd.choice(["Hardware", "Services", "Software"]),
                    rev,
                    round(rev * rnd.uniform(0.5, 0.8), 2),
                ]
            )
        for store in ("北京店", "上海店", "广州店", "深圳店"):
            for cat in ("咖啡", "茶饮", "烘焙", "周边"):
                files["stores.csv"].append([d, store, cat, round(rnd.uniform(8000, 40000), 2)])
        for centre in ("IT", "HR", "Sales", "Operations"):
            plan = rnd.randint(40, 90) * 1000
            files["budget.csv"].append([d, centre, plan])
            files["actual.csv"].append([d, centre, round(plan * rnd.uniform(0.85, 1.15), 2)])
        for dept in ("Engineering", "Sales", "Support"):
            for site in ("Berlin", "Lisbon"):
                files["headcount.csv"].append([d, dept, site, 20 + months.index(d) // 3 + rnd.randint(0, 6)])
    out = []
    for name, rows in files.items():
        path = folder / name
        with path.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)
        out.append(path)
    return out


def run() -> list[Row]:
    from bench.prompt import count, tokenizer

    tok = tokenizer()
    rows = []
    for path in sorted((ROOT / "examples" / "plans").glob("*.json")):
        plan = Plan.model_validate_json(path.read_text(encoding="utf-8"))
        n = count(tok, strict_json(plan))
        rows.append(
            Row(
                "plan economy",
                f"strict output tokens, examples/plans/{path.name}",
                f"{n:,}",
                f"{BUDGET:,} (old budget)",
                ratio(n, BUDGET),
                "every schema property written",
                {"strict_tokens": n},
            )
        )
    from docagent.engine.llm.prompt import system_prompt
    from docagent.engine.planners.tools import definitions

    prefix = count(tok, system_prompt())
    tools = count(tok, json.dumps(definitions(), separators=(",", ":")))
    rows.append(
        Row(
            "plan economy",
            "input tokens, system prefix + tool definitions (agentic turn)",
            f"{prefix + tools:,}",
            "6,000 (target)",
            ratio(prefix + tools, 6000),
            f"prefix {prefix:,} + tools {tools:,}; run_query names the prompt's Query definition",
            {"system_prefix_tokens": prefix, "tool_tokens": tools},
        )
    )
    work = Path(tempfile.mkdtemp(prefix="bench-economy-"))
    with Catalog() as c:
        for f in make_data(work):
            c.ingest(f)
        for path in sorted(PLANS.glob("*.json")):
            plan = Plan.model_validate_json(path.read_text(encoding="utf-8"))
            found = problems(plan, c)
            assert not found, (path.name, found)
            n, old = count(tok, strict_json(plan)), count(tok, strict_json(written_out(plan)))
            lean = count(tok, lean_json(plan))
            rows.append(
                Row(
                    "plan economy",
                    f"output tokens, bench/plans/{path.name}: lean (grammar servers) / strict",
                    f"{lean:,} / {n:,}",
                    f"{old:,} (strict, without measures/params)",
                    ratio(lean, old),
                    f"strict under {BUDGET:,}: {'yes' if n < BUDGET else 'NO'}; strict vs written out {ratio(n, old)}",
                    {"lean_tokens": lean, "strict_tokens": n, "written_out_tokens": old},
                )
            )
    return rows
