"""Events for desks: written with the change they announce, streamed as server-sent events.

An event row is inserted in the same transaction as the change, so a desk never hears of a
change that did not happen, and a desk that reconnects with ``Last-Event-ID`` gets exactly
what it missed. Streams wake at once: within a process through :class:`EventHub`, across
processes on PostgreSQL through ``LISTEN/NOTIFY`` on one channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, func, or_, select, text, true
from sqlalchemy.orm import Session, sessionmaker

from agentdesk.server.accounts import Viewer
from agentdesk.server.db import lock_seq
from agentdesk.server.models import Event

log = logging.getLogger(__name__)

CHANNEL: Final = "agentdesk_events"
HEARTBEAT_S: Final = 15.0
PAGE: Final = 200
#: Events every desk hears, whatever the viewer's role and department.
TO_EVERY_DESK: Final = ("answers",)
#: The only events addressed to trainees they hear: their own training records.
TRAINING: Final = ("attempt", "assignment")


def record_event(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    department_id: int | None,
    *,
    audience: Iterable[str] = (),
) -> None:
    """Add an event to the current transaction; listeners are told when it commits.

    With an ``audience`` (user ids) only those users, and supervisors, hear of it.
    """
    users = sorted(set(audience))
    # Under the change-sequence lock, event ids become visible in the order they were taken,
    # so a reader that has seen id N has seen every committed id below it.
    lock_seq(session)
    session.add(
        Event(
            kind=kind,
            department_id=department_id,
            payload=payload,
            audience=f"|{'|'.join(users)}|" if users else "",
        )
    )
    if session.get_bind().dialect.name == "postgresql":
        # Delivered by PostgreSQL at commit, to every server process listening.
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    session.info["events_recorded"] = True


def _visible(viewer: Viewer) -> Any:
    if viewer.sees_everything:
        return true()
    addressed = Event.audience.like(f"%|{viewer.user_id}|%")
    if not viewer.may_read_customers:
        # Trainees see no real customer traffic: only what is addressed to them (their
        # attempts and assignments) and the standard answers published to every desk.
        return or_(and_(addressed, Event.kind.in_(TRAINING)), Event.kind.in_(TO_EVERY_DESK))
    by_department: ColumnElement[bool]
    if viewer.department_id is None:
        by_department = Event.department_id.is_(None)
    else:
        by_department = or_(
            Event.department_id == viewer.department_id, Event.department_id.is_(None)
        )
    return or_(and_(Event.audience == "", by_department), addressed)


def latest_event_id(session: Session) -> int:
    return int(session.scalar(select(func.max(Event.id))) or 0)


def events_after(session: Session, viewer: Viewer, last_id: int, up_to: int) -> list[Event]:
    return list(
        session.scalars(
            select(Event)
            .where(Event.id > last_id, Event.id <= up_to, _visible(viewer))
            .order_by(Event.id)
            .limit(PAGE)
        )
    )


class EventHub:
    """Wakes every open stream of this process when events may have arrived."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: set[asyncio.Event] = set()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def notify(self) -> None:
        """Safe from any thread (routes run in a thread pool)."""
        if self._loop is None or self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        for waiter in list(self._waiters):
            waiter.set()

    async def wait(self, timeout: float) -> None:
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await waiter.wait()
        finally:
            self._waiters.discard(waiter)


async def listen_postgres(url: str, hub: EventHub) -> None:
    """Forward ``NOTIFY agentdesk_events`` from any server process to this one's streams."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                hub.notify()  # anything missed while (re)connecting
                async for _note in conn.notifies():
                    hub.notify()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database restarted or the network blinked
            log.warning("event listener lost its connection (%s); retrying", exc)
            await asyncio.sleep(1.0)


def format_event(event_id: int, kind: str, payload: dict[str, Any]) -> bytes:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event_id}\nevent: {kind}\ndata: {data}\n\n".encode()


async def stream(
    sessions: sessionmaker[Session],
    hub: EventHub,
    viewer: Viewer,
    last_id: int | None,
    *,
    poll_s: float,
    heartbeat_s: float = HEARTBEAT_S,
) -> AsyncIterator[bytes]:
    """Server-sent events after ``last_id`` (or from now on), forever.

    Each read uses a short session of its own, so an open stream never holds the database.
    """

    def read(after: int | None) -> tuple[int, list[tuple[int, str, dict[str, Any]]]]:
        with sessions() as session:
            # The high-water mark first: every event up to it is committed and final.
            high = latest_event_id(session)
            start = high if after is None else after
            rows = events_after(session, viewer, start, high)
            # A short page has seen everything up to the mark, visible to this viewer or not.
            newest = rows[-1].id if len(rows) == PAGE else max(high, start)
            return newest, [(r.id, r.kind, dict(r.payload)) for r in rows]

    cursor, pending = await asyncio.to_thread(read, last_id)
    yield b"retry: 2000\n\n"
    # Where the stream starts, so a desk that connected "from now" can resume from here.
    yield format_event(cursor if last_id is None else last_id, "hello", {})
    while True:
        for event_id, kind, payload in pending:
            yield format_event(event_id, kind, payload)
        if len(pending) < PAGE:
            await hub.wait(min(poll_s, heartbeat_s))
            yield b": keep-alive\n\n"
        cursor, pending = await asyncio.to_thread(read, cursor)


def notify_after_commit(session: Session, hub: EventHub) -> None:
    """Wake this process's streams if the committed transaction recorded events."""
    if session.info.pop("events_recorded", False):
        hub.notify()
