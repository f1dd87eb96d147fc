"""``screen_pop_ms``, ``cold_start``, ``stall_ms`` and ``memory_mb``: the desk itself.

One world for the four: a real server (``agentdesk server`` as a child process, on a
temporary SQLite database) with the demo accounts and ``Scale.sync_customers`` generated
customers of the demo agent's department, and the demo agent's desk (main window, qasync
loop, offscreen) in a temporary data folder.

1. ``stall_ms``: the desk signs in with an empty store; a 10 ms stall probe runs on the GUI
   thread during its first full sync, then during a burst of 200 calls posted through the
   telephony ingress.
2. The desk's store is then filled directly (``benchmarks.fill``) up to
   ``Scale.desk_customers``.
3. ``screen_pop_ms``: the desk signs in again; calls from stored customers ring, the phone
   system says the agent picked up, and the desk pops the sheet by itself.
4. ``memory_mb``: a desk process of its own (``benchmarks.desk_driver``) on that store runs
   50 searches and 100 screen pops and reports its resident memory.
5. ``cold_start``: another agent's store holds ``Scale.cold_start_customers`` customers and
   their sign-in is remembered; ``python -m agentdesk desk`` is started as a new process
   until the main window is up, against a bare PySide6 main window started alike.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from benchmarks.figures import (
    ROOT,
    Figure,
    Report,
    Scale,
    latency,
    note,
    percentiles,
    progress_every,
)

if TYPE_CHECKING:
    from benchmarks.desk_driver import Caller

SCREEN_POP: Final = "screen_pop_ms"
COLD_START: Final = "cold_start"
STALL: Final = "stall_ms"
MEMORY: Final = "memory_mb"
FIGURES: Final = (SCREEN_POP, COLD_START, STALL, MEMORY)

SCREEN_POP_P95_MS: Final = 50.0
COLD_START_MAX_RATIO: Final = 3.0
STALL_MAX_MS: Final = 50.0
MEMORY_MAX_MB: Final = 300.0

BURST_CALLS: Final = 200
MEMORY_SEARCHES: Final = 50
MEMORY_POPS: Final = 100
COLD_RUNS: Final = 5
#: Sheets of the server (and so of the first sync) and sheets put straight into the store.
SERVER_SEED: Final = 20_240_611
FILL_SEED: Final = 20_240_612
DEPARTMENT: Final = "Service Desk"  # the demo agent's
COLD_USER: Final = "bench.cold"
COLD_DEPARTMENT: Final = "Benchmark Desk"
READY: Final = "agentdesk: desk ready"  # ui/app.py prints it when AGENTDESK_READY_MARK is set
IMPORT_CHUNK: Final = 1_000

#: A bare PySide6 main window, started and declared ready the way the desk is.
REFERENCE_WINDOW: Final = f"""
import sys
from PySide6 import QtCore, QtWidgets
app = QtWidgets.QApplication(sys.argv[:1])
window = QtWidgets.QMainWindow()
window.resize(1600, 900)
window.show()
QtCore.QTimer.singleShot(0, lambda: print({READY!r}, flush=True))
app.exec()
"""


@dataclass
class World:
    tmp: Path
    db_url: str
    bridge_token: str
    cold_password: str
    callers: list[Caller]
    terms: list[str]
    server: str = ""

    @property
    def data_dir(self) -> Path:
        return self.tmp / "data"

    @property
    def keyring(self) -> Path:
        return self.tmp / "keyring.json"


def _load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else []


# --- the world ----------------------------------------------------------------------------


def _search_terms(sheets: Sequence[dict[str, Any]], count: int) -> list[str]:
    """Whole searches an agent types: names, phone digits, e-mails, computers, IPs."""
    terms: list[str] = []
    for i, sheet in enumerate(sheets[:count]):
        kind = i % 5
        if kind == 0:
            terms.append(str(sheet["name"]))
        elif kind == 1:
            terms.append(str(sheet["phones"][0]["number"])[3:])
        elif kind == 2:
            terms.append(str(sheet["email"]))
        elif kind == 3:
            terms.append(str(sheet["devices"][0]["computer_name"]))
        else:
            terms.append(str(sheet["devices"][0]["ip_addresses"][0]))
    return terms


def prepare_world(tmp: Path, scale: Scale, callers_wanted: int) -> World:
    """Demo accounts and data, the cold-start agent, and the generated customers."""
    from agentdesk.demo import prepare_demo
    from agentdesk.domain.customers import parse_customer
    from agentdesk.server.accounts import create_user, department_named
    from agentdesk.server.admin import import_sheets
    from agentdesk.server.db import make_engine, session_factory
    from benchmarks.desk_driver import Caller
    from benchmarks.generate import SheetGenerator

    db_url = f"sqlite:///{tmp / 'server.sqlite'}"
    _report, token = prepare_demo(db_url)
    cold_password = secrets.token_urlsafe(18)
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    count = scale.sync_customers
    generator = SheetGenerator(SERVER_SEED)
    numbers: Counter[str] = Counter()
    kept: list[dict[str, Any]] = []
    try:
        with sessions() as session, session.begin():
            department_named(session, COLD_DEPARTMENT, create=True)
            create_user(
                session,
                username=COLD_USER,
                password=cold_password,
                role="agent",
                full_name="Benchmark Agent",
                department=COLD_DEPARTMENT,
            )
        progress = progress_every(count // 5, "imported")
        for start in range(0, count, IMPORT_CHUNK):
            batch = list(generator.sheets(min(IMPORT_CHUNK, count - start), start=start))
            for sheet in batch:
                sheet["department"] = DEPARTMENT  # every one of them on the agent's desk
                numbers.update(p["number"] for p in sheet["phones"])
            if len(kept) < callers_wanted + MEMORY_SEARCHES:
                kept += batch
            with sessions() as session, session.begin():
                import_sheets(session, [parse_customer(s) for s in batch])
            progress(start + len(batch))
    finally:
        engine.dispose()
    callers = [
        Caller(str(s["id"]), str(s["name"]), str(s["phones"][0]["number"]))
        for s in kept
        if numbers[s["phones"][0]["number"]] == 1
    ][:callers_wanted]
    return World(
        tmp=tmp,
        db_url=db_url,
        bridge_token=token,
        cold_password=cold_password,
        callers=callers,
        terms=_search_terms(kept[-MEMORY_SEARCHES:], MEMORY_SEARCHES),
    )


def fill_store(path: Path, total: int, *, seed: int) -> int:
    """Top the store at ``path`` up to ``total`` customers; returns how many it holds."""
    from agentdesk.store.local import LocalStore
    from benchmarks.fill import fill_synced

    store = LocalStore(path)
    try:
        held = store.customer_count()
        if total > held:
            fill_synced(
                store, total - held, seed=seed, progress=progress_every((total - held) // 5)
            )
        return store.customer_count()
    finally:
        store.close()


@contextmanager
def _qt_loop() -> Iterator[asyncio.AbstractEventLoop]:
    from ui.app import make_application
    from ui.qt import qasync

    app = make_application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        yield loop


# --- stall_ms -----------------------------------------------------------------------------


def _gaps(gaps: Sequence[float], seconds: float, **extra: Any) -> dict[str, Any]:
    cuts = percentiles(gaps) if len(gaps) >= 2 else {"max": max(gaps, default=0.0)}
    return {
        "max": cuts["max"],
        "p99": cuts.get("p99", cuts["max"]),
        "p50": cuts.get("p50", cuts["max"]),
        "ticks": len(gaps),
        "seconds": round(seconds, 1),
        **extra,
    }


async def _first_sync_and_burst(world: World, *, measure: bool) -> Figure | None:
    """The empty desk's first full sync, then a burst of calls; the stall probe runs
    through both when ``measure``."""
    from agentdesk.demo import DEMO_AGENT
    from benchmarks.desk_driver import close_desk, idle, open_desk, settle, until
    from benchmarks.desk_phone import Phone
    from ui.stall import StallProbe

    window = await open_desk(world.server, DEMO_AGENT.username, DEMO_AGENT.password)
    await asyncio.sleep(0.3)  # the window's first paint and the jobs it starts
    probe = StallProbe()
    probe.start()
    started = time.perf_counter()
    window.session.start()
    await until(lambda: idle(window), "the first full sync", timeout=3600)
    sync_s = time.perf_counter() - started
    await settle(window)  # what the last page set off (searches, redraws) is counted too
    probe.stop()
    sync_gaps = list(probe.gaps)
    stored = await window.session.runner.read(window.session.store.customer_count)
    note(f"desk: first full sync of {stored:,} customers in {sync_s:.1f} s")
    if not measure:
        await close_desk(window)
        return None

    phone = Phone(world.server, world.bridge_token)
    try:
        numbers = [f"+4722{100000 + n:06d}" for n in range(BURST_CALLS)]  # unknown callers
        probe.start()
        started = time.perf_counter()
        ringing = await asyncio.to_thread(phone.burst, numbers)
        await until(lambda: len(window.queue_view.ids()) == len(ringing), "the burst on the panel")
        await settle(window)
        burst_s = time.perf_counter() - started
        probe.stop()
        burst_gaps = list(probe.gaps)
        # Not measured: the calls end, so the panel is empty for the screen pops.
        await asyncio.to_thread(lambda: [phone.hangup(c, "cancel") for c in ringing])
        await until(lambda: not window.queue_view.ids(), "the panel to empty")
        await settle(window)
    finally:
        phone.close()
        await close_desk(window)
    gaps = sync_gaps + burst_gaps
    cuts = percentiles(gaps)
    return {
        "max": cuts["max"],
        "p99": cuts["p99"],
        "p95": cuts["p95"],
        "p50": cuts["p50"],
        "n": len(gaps),
        "unit": "ms",
        "budget": f"max ≤ {STALL_MAX_MS:g} ms",
        "met": cuts["max"] <= STALL_MAX_MS,
        "first_sync": _gaps(sync_gaps, sync_s, customers=stored),
        "call_burst": _gaps(
            burst_gaps,
            burst_s,
            calls=BURST_CALLS,
            left_ringing=len(ringing),
            hung_up=BURST_CALLS - len(ringing),
        ),
        "what": "gaps between ticks of a 10 ms timer on the desk's GUI thread",
        "load_average_after": _load_avg(),
    }


# --- screen_pop_ms ------------------------------------------------------------------------


async def _screen_pops(world: World, count: int, customers: int) -> Figure:
    from agentdesk.demo import DEMO_AGENT
    from benchmarks.desk_driver import PopWatch, close_desk, idle, open_desk, pop_one, settle, until
    from benchmarks.desk_phone import Phone

    window = await open_desk(world.server, DEMO_AGENT.username, DEMO_AGENT.password)
    window.session.start()
    await until(lambda: idle(window), "the desk's sync", timeout=600)
    await settle(window)
    phone = Phone(world.server, world.bridge_token)
    watch = PopWatch(window)
    pops = []
    try:
        for n, caller in enumerate(world.callers[:count]):
            pops.append(await pop_one(window, phone, watch, caller))
            if (n + 1) % max(1, count // 5) == 0:
                note(f"  {n + 1} screen pops")
    finally:
        phone.close()
        await close_desk(window)
    from_post = percentiles([p.from_post_ms for p in pops])
    stages = {
        stage: round(statistics.median(p.stages_ms()[stage] for p in pops), 2)
        for stage in pops[0].stages_ms()
    }
    first_paint = percentiles([(p.first_paint - p.heard) * 1000 for p in pops])
    return latency(
        [p.ms for p in pops],
        p95_budget_ms=SCREEN_POP_P95_MS,
        customers=customers,
        first_paint_ms={k: first_paint[k] for k in ("p50", "p95", "max")},
        from_post_ms={k: from_post[k] for k in ("p50", "p95", "max")},
        median_stages_ms=stages,
        what=(
            "the desk's handler gets the server-sent event of the answered call → "
            "the sheet's paint pass with the caller's sheet is done"
        ),
        load_average_after=_load_avg(),
    )


# --- memory_mb ----------------------------------------------------------------------------


def _desk_env(world: World) -> dict[str, str]:
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "AGENTDESK_SOUND": "off",
        "AGENTDESK_DATA_DIR": str(world.data_dir),
        "PYTHONIOENCODING": "utf-8",
    }


def _memory(world: World, customers: int) -> Figure:
    from agentdesk.demo import DEMO_AGENT

    config = world.tmp / "memory.json"
    config.write_text(
        json.dumps(
            {
                "server": world.server,
                "username": DEMO_AGENT.username,
                "password": DEMO_AGENT.password,
                "bridge_token": world.bridge_token,
                "terms": world.terms,
                "callers": [asdict(c) for c in world.callers[:MEMORY_POPS]],
            }
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.desk_driver", str(config)],
        env=_desk_env(world),
        cwd=ROOT.parent,
        capture_output=True,
        text=True,
        timeout=3 * 3600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the desk process failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    mb = {
        stage: {k: round(v / 1024, 1) for k, v in result[stage].items()}
        for stage in ("signed_in", "searched", "popped")
    }
    rss = mb["popped"]["VmRSS"]
    return {
        "value": rss,
        "unit": "MB",
        "peak": mb["popped"]["VmHWM"],
        "budget": f"≤ {MEMORY_MAX_MB:g} MB",
        "met": rss <= MEMORY_MAX_MB,
        "customers": customers,
        "after_sign_in": mb["signed_in"]["VmRSS"],
        "after_searches": mb["searched"]["VmRSS"],
        "searches": result["searches"],
        "searches_with_results": result["searches_with_results"],
        "search_s": result["search_s"],
        "screen_pops": result["pops"],
        "what": "VmRSS of a desk process of its own after its searches and screen pops",
        "load_average_after": _load_avg(),
    }


# --- cold_start ---------------------------------------------------------------------------


def _time_to_ready(command: list[str], env: dict[str, str], log: Path) -> float:
    """Seconds from just before the process is started to its ready line on stdout."""
    with log.open("ab") as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=errors, cwd=ROOT.parent
        )
        try:
            assert proc.stdout is not None
            with selectors.DefaultSelector() as selector:
                selector.register(proc.stdout, selectors.EVENT_READ)
                deadline = started + 120
                buffered = b""
                while READY.encode() not in buffered:
                    left = deadline - time.perf_counter()
                    if left <= 0 or not selector.select(left):
                        raise RuntimeError(f"no ready line within 120 s (see {log})")
                    chunk = os.read(proc.stdout.fileno(), 4096)
                    if not chunk:
                        raise RuntimeError(f"the process ended before it was ready (see {log})")
                    buffered += chunk
            return time.perf_counter() - started
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def _remember_cold_user(world: World) -> None:
    """The cold-start agent signs in once with 'remember me' and syncs."""
    from agentdesk.credentials import TokenVault
    from benchmarks.desk_driver import close_desk, idle, settle, until
    from benchmarks.desk_keyring import BenchKeyring
    from ui.desk_session import SignIn, sign_in
    from ui.main_window import MainWindow

    vault = TokenVault(BenchKeyring(world.keyring))
    session = await sign_in(SignIn(world.server, COLD_USER, world.cold_password, True), vault)
    window = MainWindow(session)
    window.background.show_dialogs = False
    window.show()
    session.start()
    await until(lambda: idle(window), "the cold-start desk's sync", timeout=600)
    await settle(window)
    await close_desk(window)
    await until(lambda: vault.load(world.server, COLD_USER), "the remembered sign-in")


def _cold_start(world: World, customers: int) -> Figure:
    desk = [sys.executable, "-m", "agentdesk", "desk", "--server", world.server]
    desk += ["--user", COLD_USER]
    desk_env = {
        **_desk_env(world),
        "PYTHON_KEYRING_BACKEND": "benchmarks.desk_keyring.BenchKeyring",
        "AGENTDESK_BENCH_KEYRING": str(world.keyring),
        "AGENTDESK_READY_MARK": "1",
    }
    reference = [sys.executable, "-c", REFERENCE_WINDOW]
    reference_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    # Both start from compiled bytecode, as an installed desk does, even where the
    # environment turns the bytecode cache off: it is kept in the temporary directory.
    for env in (desk_env, reference_env):
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(world.tmp / "pycache")
    log = world.tmp / "cold-start.log"
    # One of each first, not counted: bytecode compiled, libraries in the file cache.
    _time_to_ready(reference, reference_env, log)
    _time_to_ready(desk, desk_env, log)
    desk_runs: list[float] = []
    reference_runs: list[float] = []
    for _ in range(COLD_RUNS):
        reference_runs.append(_time_to_ready(reference, reference_env, log))
        desk_runs.append(_time_to_ready(desk, desk_env, log))
    value = statistics.median(desk_runs)
    ref = statistics.median(reference_runs)
    ratio = value / ref
    return {
        "value": round(value, 3),
        "unit": "s",
        "reference": round(ref, 3),
        "ratio": round(ratio, 2),
        "budget": f"≤ {COLD_START_MAX_RATIO:g} × the reference",
        "met": ratio <= COLD_START_MAX_RATIO,
        "runs": [round(r, 3) for r in desk_runs],
        "reference_runs": [round(r, 3) for r in reference_runs],
        "customers": customers,
        "what": (
            "process start → main window shown and the event loop turned once "
            "(python -m agentdesk desk, sign-in remembered; reference: a bare QMainWindow)"
        ),
        "load_average_after": _load_avg(),
    }


# --- all four -----------------------------------------------------------------------------


def run(scale: Scale, report: Report, wanted: Sequence[str]) -> None:
    from agentdesk.demo import DEMO_AGENT, free_port, server_process
    from agentdesk.paths import desk_store_path

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("AGENTDESK_SOUND", "off")
    with tempfile.TemporaryDirectory(prefix="agentdesk-bench-desk-") as name:
        tmp = Path(name)
        os.environ["AGENTDESK_DATA_DIR"] = str(tmp / "data")
        callers = max(scale.screen_pops if SCREEN_POP in wanted else 0, MEMORY_POPS)
        note(f"desk: preparing the server ({scale.sync_customers:,} customers)")
        world = prepare_world(tmp, scale, callers)
        if len(world.callers) < callers:
            raise RuntimeError(f"only {len(world.callers)} callers with a number of their own")
        with server_process(world.db_url, free_port()) as server:
            world.server = server
            desk_wanted = [n for n in (STALL, SCREEN_POP, MEMORY) if n in wanted]
            if desk_wanted:
                note("desk: first full sync and a burst of calls")
                with _qt_loop() as loop:
                    stall = loop.run_until_complete(
                        _first_sync_and_burst(world, measure=STALL in wanted)
                    )
                if stall is not None:
                    report.add(STALL, stall)
            if SCREEN_POP in wanted or MEMORY in wanted:
                store = desk_store_path(server, DEMO_AGENT.username)
                note(f"desk: filling the store to {scale.desk_customers:,} customers")
                held = fill_store(store, scale.desk_customers, seed=FILL_SEED)
                if SCREEN_POP in wanted:
                    note(f"desk: {scale.screen_pops} screen pops over {held:,} customers")
                    with _qt_loop() as loop:
                        figure = loop.run_until_complete(
                            _screen_pops(world, scale.screen_pops, held)
                        )
                    report.add(SCREEN_POP, figure)
                if MEMORY in wanted:
                    note(f"desk: memory of a desk process with {held:,} customers")
                    report.add(MEMORY, _memory(world, held))
            if COLD_START in wanted:
                note(f"desk: cold start with {scale.cold_start_customers:,} customers")
                with _qt_loop() as loop:
                    loop.run_until_complete(_remember_cold_user(world))
                held = fill_store(
                    desk_store_path(server, COLD_USER), scale.cold_start_customers, seed=FILL_SEED
                )
                report.add(COLD_START, _cold_start(world, held))
