"""Ingestion: profiling CSVs of 10k, 100k and 1M rows (10 columns), time and peak memory, versus
pandas.read_csv + describe() on the same file. Each run is a fresh process, so peak RSS is its own."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import Row, ratio

# ru_maxrss survives execve (a child would report its parent's peak); VmHWM belongs to this process.
PEAK = """
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""
OURS = (
    PEAK
    + """
import json, sys, time
t = time.perf_counter()
from docagent.engine.data.catalog import Catalog
from docagent.engine.data.profile import profile
with Catalog() as c:
    (ds,) = c.ingest(sys.argv[1])
    p = profile(c, ds)
print(json.dumps({"s": time.perf_counter() - t, "rss_mb": peak_mb(),
                  "profile_bytes": len(p.model_dump_json())}))
"""
)
PANDAS = (
    PEAK
    + """
import json, sys, time
t = time.perf_counter()
import pandas as pd
df = pd.read_csv(sys.argv[1], parse_dates=["date"])
d = df.describe(include="all")
print(json.dumps({"s": time.perf_counter() - t, "rss_mb": peak_mb(),
                  "profile_bytes": len(d.to_json())}))
"""
)


def make_csv(path: Path, rows: int) -> None:
    rnd = random.Random(1)
    d0 = dt.date(2020, 1, 1)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "date", "region", "product", "channel", "units", "price", "revenue", "cost", "note"])
        for i in range(rows):
            u, p = rnd.randint(1, 50), round(rnd.uniform(5, 500), 2)
            w.writerow(
                [
                    i,
                    (d0 + dt.timedelta(days=i % 2000)).isoformat(),
                    rnd.choice("NSEWC"),
                    f"P{rnd.randint(1, 40)}",
                    rnd.choice(("Online", "Retail")),
                    u,
                    p,
                    round(u * p, 2),
                    round(u * p * 0.6, 2),
                    rnd.choice(("ok", "late", "n/a")),
                ]
            )


def measure(code: str, path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    last = [line for line in out.stdout.splitlines() if line.startswith("{")][-1]  # past any progress output
    result: dict[str, float] = json.loads(last)
    return result


def run() -> list[Row]:
    rows = []
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    for n in (10_000, 100_000, 1_000_000, 3_000_000):
        path = work / f"rows_{n}.csv"
        make_csv(path, n)
        ours, theirs = measure(OURS, path), measure(PANDAS, path)
        mb = path.stat().st_size / 2**20
        rows.append(
            Row(
                "ingestion",
                f"profile {n:,} rows × 10 columns ({mb:.0f} MB CSV)",
                f"{ours['s']:.2f} s, {ours['rss_mb']:.0f} MB peak",
                f"{theirs['s']:.2f} s, {theirs['rss_mb']:.0f} MB peak",
                f"{ratio(ours['s'], theirs['s'])} time, {ratio(ours['rss_mb'], theirs['rss_mb'])} memory",
                f"profile {ours['profile_bytes']:,} bytes",
                {"rows": n, "ours": ours, "pandas": theirs},
            )
        )
        path.unlink()
    return rows
