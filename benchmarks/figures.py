"""The shapes of the figures, the machine they came from, and the report they go into.

A latency is ``{"p50", "p95", "p99", "n", "unit", "budget", "met"}`` in milliseconds; a
throughput is ``{"value", "unit", "reference"?, "ratio"?, "budget", "met"}``. A figure may
carry more keys that explain it (what was measured, how much, the slowest samples).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sqlite3
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

Figure = dict[str, Any]

ROOT: Final = Path(__file__).resolve().parent
DEFAULT_OUT: Final = ROOT / "results" / "latest.json"


@dataclass(frozen=True)
class Scale:
    """How big each benchmark's world is: ``small`` for every day, ``full`` for issue 10."""

    name: str
    search_customers: int
    search_samples: int
    sync_customers: int
    reference_fetches: int
    push_edits: int
    save_edits: int
    desk_customers: int
    screen_pops: int
    cold_start_customers: int


SCALES: Final = {
    "small": Scale(
        "small",
        20_000,
        500,
        5_000,
        300,
        2_000,
        300,
        desk_customers=20_000,
        screen_pops=200,
        cold_start_customers=20_000,
    ),
    "full": Scale(
        "full",
        1_000_000,
        500,
        100_000,
        300,
        10_000,
        300,
        desk_customers=1_000_000,
        screen_pops=1_000,
        cold_start_customers=100_000,
    ),
}


def note(message: str) -> None:
    """Progress for the person watching; figures alone go to stdout."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def progress_every(step: int, what: str = "stored") -> Callable[[int], None]:
    """A progress callback that notes every ``step`` items (at most about ten lines)."""
    last = [0]

    def progress(done: int) -> None:
        if step > 0 and done - last[0] >= step:
            last[0] = done
            note(f"  {done:,} {what}")

    return progress


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50": round(cuts[49], 3),
        "p95": round(cuts[94], 3),
        "p99": round(cuts[98], 3),
        "max": round(max(samples), 3),
    }


def latency(samples_ms: Sequence[float], *, p95_budget_ms: float, **extra: Any) -> Figure:
    """A latency figure in milliseconds, judged on its 95th percentile."""
    figure: Figure = {**percentiles(samples_ms), "n": len(samples_ms), "unit": "ms"}
    figure["budget"] = f"p95 ≤ {p95_budget_ms:g} ms"
    figure["met"] = figure["p95"] <= p95_budget_ms
    return {**figure, **extra}


def throughput(
    value: float,
    unit: str,
    *,
    minimum: float,
    reference: float | None = None,
    min_ratio: float | None = None,
    **extra: Any,
) -> Figure:
    """A rate, judged against a floor and, when given, against a reference measured alike."""
    figure: Figure = {"value": round(value, 1), "unit": unit}
    budget = f"≥ {minimum:,.0f} {unit}"
    met = value >= minimum
    if reference is not None:
        ratio = value / reference if reference else float("inf")
        figure["reference"] = round(reference, 1)
        figure["ratio"] = round(ratio, 2)
        if min_ratio is not None:
            budget += f" and ≥ {min_ratio:g} × the reference"
            met = met and ratio >= min_ratio
    figure["budget"] = budget
    figure["met"] = met
    return {**figure, **extra}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if hasattr(os, "getloadavg"):
        # Other work on the machine skews every figure; say how busy it was at the start.
        info["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    return info


class Report:
    """Prints each figure as one JSON line when measured and keeps the file up to date."""

    def __init__(self, out: Path, scale: Scale) -> None:
        self.out = out
        self.data: dict[str, Any] = {"machine": machine_info(), "scale": scale.name}

    def add(self, name: str, figure: Figure) -> None:
        print(json.dumps({"name": name, **figure}, ensure_ascii=False), flush=True)
        self.data[name] = figure
        self.write()

    def failed(self, name: str, error: BaseException) -> None:
        self.add(name, {"error": f"{type(error).__name__}: {error}", "met": False})

    def has(self, name: str) -> bool:
        return name in self.data

    def write(self) -> None:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.data, ensure_ascii=False, indent=2) + "\n"
        tmp = self.out.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.out)
