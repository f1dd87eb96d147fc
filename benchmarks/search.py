"""``search_ms``: search as you type over a local store holding many customers.

Each sample is one keystroke: ``LocalStore.search(text so far, limit=100)``, as the search
panel runs it, for a name, phone digits, an e-mail address, a computer name or an IP address
typed one character at a time ("Bj", "Bjø", "Bjør", …).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from agentdesk.store.local import LocalStore
from benchmarks.figures import (
    Figure,
    Report,
    Scale,
    latency,
    note,
    percentiles,
    progress_every,
)
from benchmarks.fill import fill_synced
from benchmarks.generate import DEFAULT_SEED, SheetGenerator

NAME = "search_ms"
BUDGET_P95_MS = 20.0
RESULT_LIMIT = 100  # ui/search_panel.py
WARM_UP = 20
KINDS = ("name", "phone", "email", "computer", "ip")


def _typed(kind: str, sheet: dict[str, object]) -> tuple[str, int]:
    """What the agent types for a kind of search, and from which length on it searches."""
    devices = sheet["devices"]
    assert isinstance(devices, list)
    if kind == "name":
        name = str(sheet["name"])
        return name, 1 if not name.isascii() and " " not in name else 2  # 王伟 is two keys
    if kind == "phone":
        phones = sheet["phones"]
        assert isinstance(phones, list)
        return str(phones[-1]["number"]), 3
    if kind == "email":
        return str(sheet["email"]), 2
    if kind == "computer":
        return str(devices[-1]["computer_name"]), 2
    return str(devices[0]["ip_addresses"][0]), 2


def keystrokes(count: int, samples: int, *, seed: int) -> Iterator[tuple[str, str]]:
    """(kind, text so far) for customers drawn from the store, round-robin over the kinds."""
    rng = random.Random(seed + 1)
    generator = SheetGenerator(seed)
    made = 0
    while made < samples:
        for kind in KINDS:
            text, first = _typed(kind, generator.sheet(rng.randrange(count)))
            for end in range(first, len(text) + 1):
                yield kind, text[:end]
                made += 1


def measure(store: LocalStore, count: int, samples: int, *, seed: int) -> Figure:
    for _kind, text in list(keystrokes(count, WARM_UP, seed=seed + 7))[:WARM_UP]:
        store.search(text, limit=RESULT_LIMIT)
    timings: list[float] = []
    by_kind: dict[str, list[float]] = defaultdict(list)
    slowest: list[tuple[float, str]] = []
    stopped_early = 0
    for kind, text in keystrokes(count, samples, seed=seed):
        started = time.perf_counter()
        found = store.search(text, limit=RESULT_LIMIT)
        ms = (time.perf_counter() - started) * 1000
        stopped_early += not found.complete
        timings.append(ms)
        by_kind[kind].append(ms)
        slowest.append((ms, text))
    slowest.sort(reverse=True)
    return latency(
        timings,
        p95_budget_ms=BUDGET_P95_MS,
        customers=count,
        limit=RESULT_LIMIT,
        by_kind={k: {**percentiles(v), "n": len(v)} for k, v in by_kind.items()},
        slowest=[{"query": q, "ms": round(ms, 1)} for ms, q in slowest[:5]],
        # Keystrokes whose search stopped early: so many match that the panel says to type on.
        stopped_early=stopped_early,
    )


def run(scale: Scale, report: Report, *, seed: int = DEFAULT_SEED) -> None:
    count = scale.search_customers
    with tempfile.TemporaryDirectory(prefix="agentdesk-bench-search-") as tmp:
        path = Path(tmp) / "desk.db"
        store = LocalStore(path)
        try:
            note(f"{NAME}: storing {count:,} customers in a local store")
            started = time.perf_counter()
            fill_synced(store, count, seed=seed, progress=progress_every(count // 10))
            fill_s = time.perf_counter() - started
            size = sum(f.stat().st_size for f in path.parent.glob(f"{path.name}*"))
            note(f"{NAME}: stored in {fill_s:.1f} s, {size / 1e6:,.0f} MB; typing queries")
            figure = measure(store, count, scale.search_samples, seed=seed)
            report.add(NAME, {**figure, "fill_s": round(fill_s, 1), "store_mb": round(size / 1e6)})
        finally:
            store.close()
