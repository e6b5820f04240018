"""Read-only tools the model may call before planning; they speak the binding language, never SQL."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from docagent.engine.data.catalog import Catalog
from docagent.engine.data.profile import profile
from docagent.engine.data.query import run_query
from docagent.engine.data.sql import quote
from docagent.engine.plan import Query
from docagent.engine.validate import check_query
from docagent.errors import DocagentError

MAX_ROWS = 20


def definitions() -> list[dict[str, Any]]:
    # The Query definition is in the system prompt's schema already; servers do not constrain a tool call's
    # arguments to its parameters (tool_choice auto), and call() answers a bad query with a message the model
    # reads. So run_query names the definition instead of repeating it: about 1,100 tokens on every request.
    query = {"type": "object", "description": "a Query object, as $defs.Query in the plan's JSON Schema"}
    column = {
        "type": "object",
        "properties": {"dataset": {"type": "string"}, "column": {"type": "string"}},
        "required": ["dataset", "column"],
        "additionalProperties": False,
    }

    def fn(name: str, description: str, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": name, "description": description, "parameters": params},
        }

    return [
        fn("inspect_column", "Profile of one column: type, nulls, distinct count, range, top values.", column),
        fn("list_values", "Up to 30 most frequent values of a column with their counts.", column),
        fn(
            "run_query",
            f"Run a structured query (the plan's Query object) and see up to {MAX_ROWS} result rows.",
            {
                "type": "object",
                "properties": {"query": query},
                "required": ["query"],
                "additionalProperties": False,
            },
        ),
    ]


def call(catalog: Catalog, name: str, arguments: str) -> str:
    """Run one tool call; every failure comes back as text the model can read."""
    try:
        args = json.loads(arguments or "{}", strict=False)
        if name == "inspect_column" or name == "list_values":
            ds = catalog.get(str(args.get("dataset")))
            col = ds.column(str(args.get("column"))) if ds else None
            if ds is None or col is None:
                return f"error: unknown dataset or column {args.get('dataset')!r}.{args.get('column')!r}"
            if name == "inspect_column":
                return profile(catalog, ds).column(col.name).model_dump_json()  # type: ignore[union-attr]
            rows = catalog.con.execute(
                f"SELECT {quote(col.name)}, count(*) AS n FROM {quote(ds.table)} GROUP BY 1 ORDER BY n DESC LIMIT 30"
            ).fetchall()
            return json.dumps([[str(v), n] for v, n in rows], ensure_ascii=False)
        if name == "run_query":
            q = Query.model_validate(args.get("query"))
            problems: list[str] = []
            if check_query(q, catalog, "query", problems) is None:
                return "error: " + "; ".join(problems)
            r = run_query(catalog, q)
            return json.dumps(
                {"columns": [c.name for c in r.columns], "rows": [list(x) for x in r.rows[:MAX_ROWS]]},
                ensure_ascii=False,
                default=str,
            )
        return f"error: unknown tool {name!r}"
    except ValidationError as e:  # what is wrong where, as the plan's repair messages say it
        return "error: " + "; ".join(f"{'.'.join(map(str, x['loc'])) or 'query'}: {x['msg']}" for x in e.errors()[:5])
    except (ValueError, DocagentError) as e:
        return f"error: {str(e).splitlines()[0]}"
