"""Driving a real desk for the desk figures: a phone system, screen pops, searches, memory.

Used in the benchmark process (``screen_pop_ms``, ``stall_ms``) and, for ``memory_mb``, as a
desk process of its own: ``python -m benchmarks.desk_driver CONFIG.json`` signs in, works
the desk and prints its figures as one JSON line, so that the memory it reports is the
desk's, not the benchmark's.

The phone system is a process of its own (:mod:`benchmarks.desk_phone`), so that its
requests never compete with the desk for the interpreter's lock.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentdesk.sync.client import ServerEvent
from agentdesk.sync.engine import SyncState
from benchmarks.desk_phone import Phone
from ui.main_window import MainWindow
from ui.qt import QtCore, QtWidgets

#: How long to let the desk settle before the next call: quiet for this long, twice.
QUIET_S = 0.1


@dataclass(frozen=True)
class Caller:
    """A customer the server knows by a phone number no other customer has."""

    customer_id: str
    name: str
    number: str


@dataclass
class Pop:
    """One screen pop, in seconds on ``time.perf_counter``."""

    posted: float  # the phone system posts "answered"
    heard: float  # the desk's handler gets the server-sent event of the answered call
    opened: float  # the sheet controller has put the caller's sheet in the view
    first_paint: float  # the sheet's name field gets its paint event, showing the caller
    painted: float  # the event loop is back after that paint pass
    pulled: float  # the sync engine has stored the answered call (before or after the pop)

    @property
    def ms(self) -> float:
        return (self.painted - self.heard) * 1000

    @property
    def from_post_ms(self) -> float:
        return (self.painted - self.posted) * 1000

    def stages_ms(self) -> dict[str, float]:
        """Where the time went: event → sheet filled → first paint → paint pass done; and,
        on the side, event → call stored by the pull."""
        return {
            "open": (self.opened - self.heard) * 1000,
            "paint": (self.first_paint - self.opened) * 1000,
            "paint_pass": (self.painted - self.first_paint) * 1000,
            "pull": (self.pulled - self.heard) * 1000,
        }


def memory_kb() -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of this process, in kB (Linux)."""
    found: dict[str, int] = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found


async def until(condition: Callable[[], object], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


def idle(window: MainWindow) -> bool:
    status = window.session.status
    return status.state is SyncState.UP_TO_DATE and status.pending == 0


async def settle(window: MainWindow, timeout: float = 300.0) -> None:
    """Wait until the desk is synced, its outbox empty and no background job runs, and
    stays so for a moment (an event may still be on its way)."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the desk did not settle: {window.session.status}")
        await asyncio.sleep(QUIET_S)
        await window.background.wait_idle()
        quiet = quiet + 1 if idle(window) else 0


class PopWatch(QtCore.QObject):
    """Times one screen pop at a time: from the server-sent event of the answered call
    reaching the desk's handler to the paint that shows the caller's sheet.

    The start is taken where :class:`~agentdesk.sync.events.EventListener` hands the parsed
    event to the desk (``DeskSession._heard``); the end is the paint event of the sheet's
    name field once it holds the caller's name and the sheet is the caller's, then the
    moment the event loop is back from that paint pass (a 0 ms timer queued in it).
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        listener = window.session.listener
        self._handler = listener.on_event
        listener.on_event = self._heard
        window.sheet_view.name.installEventFilter(self)
        window.session.records_changed.connect(self._pulled)
        window.sheet.opened.connect(self._opened)
        self._contact_id = ""
        self._customer_id = ""
        self._name = ""
        self.heard: float | None = None
        self.pulled: float | None = None
        self.opened: float | None = None
        self.first_paint: float | None = None
        self.painted: float | None = None

    def arm(self, contact_id: str, caller: Caller) -> None:
        self._contact_id = contact_id
        self._customer_id = caller.customer_id
        self._name = caller.name
        self.heard = self.pulled = self.opened = self.first_paint = self.painted = None

    def pop(self, posted: float) -> Pop:
        marks = (self.heard, self.opened, self.first_paint, self.painted, self.pulled)
        if any(m is None for m in marks):
            raise RuntimeError(f"a screen pop missed a step: {marks}")
        return Pop(posted, *marks)  # type: ignore[arg-type]

    def _pulled(self, ids: set[str]) -> None:
        if self.heard is not None and self.pulled is None and self._contact_id in ids:
            self.pulled = time.perf_counter()

    def _opened(self, customer_id: str) -> None:
        if self.heard is not None and self.opened is None and customer_id == self._customer_id:
            self.opened = time.perf_counter()

    def _heard(self, event: ServerEvent) -> None:
        data = event.data
        if (
            self.heard is None
            and event.kind == "contact"
            and data.get("id") == self._contact_id
            and data.get("state") == "answered"
        ):
            self.heard = time.perf_counter()
        self._handler(event)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if (
            event.type() == QtCore.QEvent.Type.Paint
            and self.heard is not None
            and self.first_paint is None
            and self.window.sheet.customer_id == self._customer_id
            and self.window.sheet_view.name.text() == self._name
        ):
            self.first_paint = time.perf_counter()
            QtCore.QTimer.singleShot(0, self._painted)
        return False

    def _painted(self) -> None:
        self.painted = time.perf_counter()


async def pop_one(window: MainWindow, phone: Phone, watch: PopWatch, caller: Caller) -> Pop:
    """A call from ``caller`` rings, the agent picks up the handset (the phone system says
    so), the desk pops the sheet by itself; then the call ends and is wrapped up."""
    agent = window.session.user.username
    call_id = f"bench-{os.urandom(8).hex()}"
    ringing = await asyncio.to_thread(phone.ring, call_id, caller.number)
    contact_id = str(ringing["id"])
    if ringing.get("customer_id") != caller.customer_id:
        raise RuntimeError(f"the server did not match {caller.number} to {caller.name}")
    await until(lambda: contact_id in window.queue.records, "the call on the panel")
    await settle(window)
    watch.arm(contact_id, caller)
    posted = time.perf_counter()
    await asyncio.to_thread(phone.answered, call_id, agent)
    await until(lambda: watch.painted is not None, "the screen pop")
    await until(lambda: watch.pulled is not None, "the call stored")
    pop = watch.pop(posted)
    await until(lambda: window.contacts.in_hand(contact_id), "the call in hand")
    if window.sheet.customer_id != caller.customer_id:
        raise RuntimeError("the sheet in view is not the caller's")
    # The caller hangs up; the agent wraps up, and the desk is ready for the next call.
    await asyncio.to_thread(phone.hangup, call_id)
    await until(
        lambda: (window.contacts.current or {}).get("ended_at"), "the end of the call on the desk"
    )
    pane = window.contact_pane
    pane.category.setCurrentIndex(1)
    pane.outcome.setCurrentIndex(1)
    window.contacts.wrap_up()
    await until(lambda: window.contacts.current is None, "the wrap-up")
    await settle(window)
    return pop


async def open_desk(server: str, username: str, password: str) -> MainWindow:
    """Sign in with a password, show the main window, start syncing."""
    from agentdesk.credentials import TokenVault
    from ui.desk_session import SignIn, sign_in

    session = await sign_in(SignIn(server, username, password, remember=False), TokenVault())
    window = MainWindow(session)
    window.background.show_dialogs = False
    window.show()
    window.focus_search()
    return window


async def close_desk(window: MainWindow) -> None:
    window.shutdown()
    window.close()
    await window.session.close()
    window.deleteLater()
    await asyncio.sleep(0.05)


async def search(window: MainWindow, text: str) -> int:
    """Type a whole search into the search field and wait for the results; returns how
    many were shown."""
    from ui.search_panel import DEBOUNCE_MS

    window.search_view.query.setText(text)
    await asyncio.sleep(DEBOUNCE_MS / 1000 + 0.02)
    await window.background.wait_idle()
    return window.search_view.results.topLevelItemCount()


# --- memory_mb, in a desk process of its own ----------------------------------------------


async def _memory(config: dict[str, Any]) -> dict[str, Any]:
    window = await open_desk(config["server"], config["username"], config["password"])
    window.session.start()
    await until(lambda: idle(window), "the desk's sync", timeout=600)
    await settle(window)
    signed_in = memory_kb()
    found = 0
    started = time.perf_counter()
    for term in config["terms"]:
        found += await search(window, term) > 0
    search_s = time.perf_counter() - started
    searched = memory_kb()
    phone = Phone(config["server"], config["bridge_token"])
    watch = PopWatch(window)
    callers = [Caller(**c) for c in config["callers"]]
    pops: list[float] = []
    try:
        for caller in callers:
            pops.append((await pop_one(window, phone, watch, caller)).ms)
    finally:
        phone.close()
    popped = memory_kb()
    await close_desk(window)
    return {
        "signed_in": signed_in,
        "searched": searched,
        "popped": popped,
        "searches": len(config["terms"]),
        "searches_with_results": found,
        "search_s": round(search_s, 1),
        "pops": len(pops),
        "pop_ms_median": round(sorted(pops)[len(pops) // 2], 1) if pops else None,
    }


def memory_child(config_path: Path) -> int:
    from ui.app import make_application
    from ui.qt import qasync

    config = json.loads(config_path.read_text(encoding="utf-8"))
    app = make_application()
    assert isinstance(app, QtWidgets.QApplication)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        result = loop.run_until_complete(_memory(config))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(memory_child(Path(sys.argv[1])))
