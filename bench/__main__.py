"""`python -m bench [section ...]`: run the benchmarks, print a markdown table, write bench/results.json."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

from bench import burst, economy, ingest, prompt, render, service, startup
from bench.common import Row

SECTIONS = {
    "startup": startup.run,
    "tables": startup.tables,
    "rendering": render.run,
    "ingestion": ingest.run,
    "prompt": prompt.run,
    "economy": economy.run,
    "service": service.run,
    "bursting": burst.run,
}


def main(argv: list[str]) -> int:
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    wanted = argv or list(SECTIONS)
    started = time.perf_counter()
    rows = []
    for name in wanted:
        t = time.perf_counter()
        rows += SECTIONS[name]()
        print(f"[{name}: {time.perf_counter() - t:.0f} s]", file=sys.stderr)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    out = Path(__file__).parent / "results.json"
    if argv and out.exists():  # a partial run replaces its sections and keeps the others
        kept = [Row(**r) for r in json.loads(out.read_text())["rows"] if r["section"] not in {r.section for r in rows}]
        rows = kept + rows
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        f"Run {when} on {machine}; {time.perf_counter() - started:.0f} s in all.",
        "",
        "| section | case | docagent | baseline | ratio | note |",
        "|---|---|---|---|---|---|",
        *[f"| {r.section} | {r.case} | {r.docagent} | {r.baseline} | {r.ratio} | {r.note} |" for r in rows],
    ]
    print("\n".join(lines))
    out.write_text(
        json.dumps({"machine": machine, "rows": [dataclasses.asdict(r) for r in rows]}, indent=2, default=str)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
