"""``check_back_late_ms``: how late check-back prompts fire while the desk is busy.

The real desk (main window, qasync loop, offscreen) signs in to a real server on loopback.
Twenty callers are put on hold a second and a half apart, so prompts (at 30 s) and
escalations (at 60 s) come due one after another for about a minute and a half. Meanwhile a
phone system posts a burst of calls through the ingress (every one reaches the desk through
the event stream and a pull) and the agent saves sheet edits that are pushed, so the
prompts compete with real work on the GUI thread. The figure is how long after its due time
each prompt or escalation reached the screen.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Final

import httpx

from benchmarks.figures import Report, Scale, note, percentiles

NAME: Final = "check_back_late_ms"
MAX_LATE_MS: Final = 250.0
HELD: Final = 20
STAGGER_S: Final = 1.5
INTERVAL_S: Final = 30.0


async def _busy_phone(server: str, token: str, stop: asyncio.Event) -> int:
    """A burst of calls: one every 100 ms, each hung up a little later."""
    posted = 0
    rng = random.Random(7)
    async with httpx.AsyncClient(
        base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        while not stop.is_set():
            call_id = uuid.uuid4().hex
            number = f"+4722{rng.randrange(100000, 999999)}"
            await http.post(
                "/api/v1/telephony/events",
                json={"event": "ringing", "call_id": call_id, "from": number},
            )
            posted += 1
            if posted % 3 == 0:
                await http.post(
                    "/api/v1/telephony/events",
                    json={"event": "hangup", "call_id": call_id, "cause": "cancel"},
                )
            await asyncio.sleep(0.1)
    return posted


async def _measure(server: str, token: str) -> dict[str, object]:
    from agentdesk.credentials import TokenVault
    from agentdesk.demo import DEMO_AGENT
    from agentdesk.sync.engine import SyncState
    from ui.desk_session import SignIn, sign_in
    from ui.main_window import MainWindow

    session = await sign_in(
        SignIn(server, DEMO_AGENT.username, DEMO_AGENT.password, remember=False), TokenVault()
    )
    window = MainWindow(session)
    window.background.show_dialogs = False
    window.show()
    session.start()
    deadline = time.monotonic() + 60
    while session.status.state is not SyncState.UP_TO_DATE:
        if time.monotonic() > deadline:
            raise RuntimeError("the desk did not finish its first sync")
        await asyncio.sleep(0.05)
    calls = window.calls
    calls.set_interval(INTERVAL_S)
    stop = asyncio.Event()
    phone = asyncio.create_task(_busy_phone(server, token, stop))
    summaries = await session.runner.read(session.store.search, "", limit=200)
    edits = 0

    async def edit_sheets() -> None:
        nonlocal edits
        while not stop.is_set():
            summary = summaries[edits % len(summaries)]
            await session.runner.write(
                session.store.save_edit, summary.id, {"location": f"Room {edits}"}
            )
            session.wake_sync()
            edits += 1
            await asyncio.sleep(0.2)

    editor = asyncio.create_task(edit_sheets())
    try:
        for n in range(HELD):
            calls.board.hold(f"bench-{n}", f"Caller {n}", "check")
            calls.timers.refresh()
            await asyncio.sleep(STAGGER_S)
        # Every held call prompts at 30 s and escalates at 60 s after it was held.
        await asyncio.sleep(2 * INTERVAL_S + 1)
    finally:
        stop.set()
        posted = await phone
        await editor
    lateness = [s * 1000 for s in calls.timers.lateness]
    window.shutdown()
    window.close()
    await session.close()
    if not lateness:
        raise RuntimeError("no prompt came due")
    cuts = percentiles(lateness)
    return {
        "p50": cuts["p50"],
        "p95": cuts["p95"],
        "max": cuts["max"],
        "n": len(lateness),
        "unit": "ms",
        "budget": f"max ≤ {MAX_LATE_MS:g} ms",
        "met": cuts["max"] <= MAX_LATE_MS,
        "while": f"{posted} calls posted, {edits} sheet edits pushed, {HELD} callers on hold",
    }


def run(scale: Scale, report: Report) -> None:
    del scale  # the same world at every scale: a desk's own hold board
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("AGENTDESK_SOUND", "off")
    with tempfile.TemporaryDirectory(prefix="agentdesk-bench-hold-") as tmp:
        os.environ["AGENTDESK_DATA_DIR"] = tmp
        from agentdesk.demo import free_port, prepare_demo, server_process
        from ui.app import make_application
        from ui.qt import qasync

        db_url = f"sqlite:///{Path(tmp) / 'server.sqlite'}"
        note("check-back prompts: preparing the demo server")
        _report, token = prepare_demo(db_url)
        app = make_application()
        with server_process(db_url, free_port()) as server:
            note(f"check-back prompts: {HELD} callers on hold for about 100 s while busy")
            loop = qasync.QEventLoop(app)
            asyncio.set_event_loop(loop)
            with loop:
                figure = loop.run_until_complete(_measure(server, token))
    report.add(NAME, figure)
