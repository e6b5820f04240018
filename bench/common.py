"""Timing helpers shared by the benchmark sections."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Row:
    section: str
    case: str
    docagent: str
    baseline: str
    ratio: str
    note: str = ""
    figures: dict[str, Any] = field(default_factory=dict)


def best_of(fn: Callable[[], Any], n: int = 3) -> float:
    """Fastest of n runs, in seconds (the least disturbed by the rest of the machine)."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "–"
