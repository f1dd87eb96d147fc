"""Events for desks: written with the change they announce, streamed as server-sent events.

An event row is inserted in the same transaction as the change, so a desk never hears of a
change that did not happen, and a desk that reconnects with ``Last-Event-ID`` gets exactly
what it missed. Streams wake at once: within a process through :class:`EventHub`, across
processes on PostgreSQL through ``LISTEN/NOTIFY`` on one channel. After a wake the streams
of a process share one read of what is new (:class:`EventFeed`) and each keeps what its
viewer may see, so an event costs one query per process, not one per open stream.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, event, func, or_, select, text, true
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
    events_due(session)
    session.add(Event(**event_values(kind, payload, department_id, audience=audience)))


def event_values(
    kind: str, payload: dict[str, Any], department_id: int | None, *, audience: Iterable[str] = ()
) -> dict[str, Any]:
    """The columns of an event row (see :func:`record_event`)."""
    users = sorted(set(audience))
    return {
        "kind": kind,
        "department_id": department_id,
        "payload": payload,
        "audience": f"|{'|'.join(users)}|" if users else "",
    }


def events_due(session: Session) -> None:
    """Get the transaction ready for events it writes, before it writes them: the change
    sequence locked, and the stream processes told when it commits."""
    # Under the change-sequence lock, event ids become visible in the order they were taken,
    # so a reader that has seen id N has seen every committed id below it.
    lock_seq(session)
    if session.get_bind().dialect.name == "postgresql" and not session.info.get("notify_due"):
        # Delivered by PostgreSQL at commit, to every server process listening: one
        # announcement per transaction, however many events it records.
        session.info["notify_due"] = True
        if not event.contains(session, "before_commit", _announce):
            event.listen(session, "before_commit", _announce)
    session.info["events_recorded"] = True


def _announce(session: Session) -> None:
    """Before the transaction commits (not a savepoint): NOTIFY the server processes."""
    if session.in_nested_transaction() or not session.info.pop("notify_due", False):
        return
    session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


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


def visible_to(viewer: Viewer, kind: str, department_id: int | None, audience: str) -> bool:
    """The rule of :func:`_visible`, for an event already read: who may hear of it."""
    if viewer.sees_everything:
        return True
    addressed = f"|{viewer.user_id}|" in audience
    if not viewer.may_read_customers:
        return (addressed and kind in TRAINING) or kind in TO_EVERY_DESK
    if viewer.department_id is None:
        by_department = department_id is None
    else:
        by_department = department_id is None or department_id == viewer.department_id
    return (audience == "" and by_department) or addressed


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
        #: Counts wakes (on the loop): a read begun at generation N has seen every commit
        #: announced up to N.
        self.generation = 0

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def notify(self) -> None:
        """Safe from any thread (routes run in a thread pool)."""
        if self._loop is None or self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        self.generation += 1
        for waiter in list(self._waiters):
            waiter.set()

    def bump(self) -> int:
        """A new generation without waking anyone: asks for a fresh read (a safety poll)."""
        self.generation += 1
        return self.generation

    async def wait(self, timeout: float) -> bool:
        """Until woken (True) or ``timeout`` seconds passed (False)."""
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await waiter.wait()
            return waiter.is_set()
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


@dataclass(frozen=True, slots=True)
class FedEvent:
    """An event as the feed keeps it: who may hear of it, and its text on the wire."""

    id: int
    kind: str
    department_id: int | None
    audience: str
    text: bytes


Page = tuple[int, list[bytes]]


class EventFeed:
    """The newest events of a process, read once after a wake for all its streams.

    Every event with an id above :attr:`floor` and up to :attr:`high` is held, formatted
    once; a stream takes those after its cursor that its viewer may see. A stream whose
    cursor is below the floor (it resumed from long ago, or fell behind a burst) reads the
    database on its own until it is back within reach.
    """

    def __init__(self, sessions: sessionmaker[Session], hub: EventHub, *, keep: int = 4096):
        self._sessions = sessions
        self._hub = hub
        self._keep = keep
        self._ids: list[int] = []
        self._events: list[FedEvent] = []
        #: Ids of the held events meant for a few users only (messages, training records).
        self._addressed: list[int] = []
        #: Pages already cut since the last read, by kind of viewer and cursor: streams
        #: woken together mostly share both, and need not each filter the same events.
        self._pages: dict[tuple[Any, ...], Page] = {}
        self.floor: int | None = None  # unknown until the first read
        self.high = 0
        self._read_at = -1  # the hub generation the last read began at
        #: When (event loop time) the last read began.
        self.read_begun = float("-inf")
        self._reading: asyncio.Future[None] | None = None
        #: Reads of the database made for all streams (one per wake at most).
        self.reads = 0

    async def catch_up(self, generation: int, cursor: int) -> None:
        """Make sure a read begun at ``generation`` or later is in.

        Streams woken together wait for one read, and are all resumed when it is in. The
        first read holds events from the asking stream's ``cursor`` on (at most ``keep``).
        """
        while self._read_at < generation:
            if self._reading is None:
                self._reading = asyncio.ensure_future(self._read_now(cursor))
            # A stream that closes while it waits must not cancel the others' read.
            await asyncio.shield(self._reading)

    async def _read_now(self, cursor: int) -> None:
        try:
            begun = self._hub.generation
            self.read_begun = asyncio.get_running_loop().time()
            floor, high, rows = await asyncio.to_thread(self._read, self.floor, self.high, cursor)
            self.reads += 1
            self._take(floor, high, rows)
            self._read_at = begun
        finally:
            self._reading = None

    def _read(
        self, floor: int | None, high: int, cursor: int
    ) -> tuple[int | None, int, list[FedEvent]]:
        with self._sessions() as session:
            newest = latest_event_id(session)
            if floor is None or newest - high > self._keep:
                # The first read, or too much since the last one: hold from the asking
                # stream's cursor, or the newest ``keep``; streams further behind read the
                # database themselves until they are within reach.
                floor = high = max(min(cursor, newest), newest - self._keep, 0)
            rows = session.scalars(
                select(Event).where(Event.id > high, Event.id <= newest).order_by(Event.id)
            )
            events = [
                FedEvent(
                    r.id,
                    r.kind,
                    r.department_id,
                    r.audience,
                    format_event(r.id, r.kind, dict(r.payload)),
                )
                for r in rows
            ]
            return floor, newest, events

    def _take(self, floor: int | None, high: int, events: list[FedEvent]) -> None:
        self._pages = {}
        if floor != self.floor:
            self._ids, self._events, self._addressed = [], [], []
        self.floor, self.high = floor, max(high, self.high)
        self._ids.extend(e.id for e in events)
        self._events.extend(events)
        self._addressed.extend(e.id for e in events if e.audience)
        if len(self._events) > 2 * self._keep:
            drop = len(self._events) - self._keep
            self.floor = self._ids[drop - 1]
            del self._ids[:drop], self._events[:drop]
            del self._addressed[: bisect.bisect_right(self._addressed, self.floor)]

    def page(self, viewer: Viewer, cursor: int) -> Page | None:
        """The held events after ``cursor`` the viewer may see (at most a page), and the
        cursor after them; None when the feed does not reach back to ``cursor``."""
        if self.floor is None or cursor < self.floor:
            return None
        if bisect.bisect_right(self._addressed, cursor) < len(self._addressed):
            return self._cut(viewer, cursor)  # some are for a few users: this one's own page
        # Without an audience, who may see an event depends on the role and the department
        # alone: one page for all viewers alike.
        key = (viewer.sees_everything, viewer.may_read_customers, viewer.department_id, cursor)
        page = self._pages.get(key)
        if page is None:
            page = self._pages[key] = self._cut(viewer, cursor)
        return page

    def _cut(self, viewer: Viewer, cursor: int) -> Page:
        texts: list[bytes] = []
        for held in self._events[bisect.bisect_right(self._ids, cursor) :]:
            if visible_to(viewer, held.kind, held.department_id, held.audience):
                texts.append(held.text)
                if len(texts) == PAGE:
                    return held.id, texts
        return max(cursor, self.high), texts


async def stream(
    sessions: sessionmaker[Session],
    hub: EventHub,
    viewer: Viewer,
    last_id: int | None,
    *,
    feed: EventFeed,
    poll_s: float,
    heartbeat_s: float = HEARTBEAT_S,
) -> AsyncIterator[bytes]:
    """Server-sent events after ``last_id`` (or from now on), forever.

    A wake costs this stream no query of its own: the ``feed`` (one per process) reads what
    is new for all. The stream reads the database itself only where the feed does not reach:
    at the start, and when it is behind what the feed holds; each read uses a short session
    of its own, so an open stream never holds the database.
    """

    def read(after: int | None) -> Page:
        with sessions() as session:
            # The high-water mark first: every event up to it is committed and final.
            high = latest_event_id(session)
            start = high if after is None else after
            rows = events_after(session, viewer, start, high)
            # A short page has seen everything up to the mark, visible to this viewer or not.
            newest = rows[-1].id if len(rows) == PAGE else max(high, start)
            return newest, [format_event(r.id, r.kind, dict(r.payload)) for r in rows]

    loop = asyncio.get_running_loop()
    seen = hub.generation  # every announcement up to here is in what is read next
    cursor, pending = await asyncio.to_thread(read, last_id)
    yield b"retry: 2000\n\n"
    # Where the stream starts, so a desk that connected "from now" can resume from here.
    yield format_event(cursor if last_id is None else last_id, "hello", {})
    sent_at = loop.time()
    while True:
        if pending:
            # All that is due in one write: after a burst, one send instead of hundreds.
            yield b"".join(pending)
            sent_at = loop.time()
        if len(pending) < PAGE:
            quiet = heartbeat_s - (loop.time() - sent_at)
            if quiet <= 0:
                yield b": keep-alive\n\n"
                sent_at, quiet = loop.time(), heartbeat_s
            # An announcement made while this stream was sending counts as a wake too.
            woken = hub.generation > seen or await hub.wait(min(poll_s, quiet))
            # Woken: a read begun since the wake has the news. Not woken: the safety poll
            # reads afresh, in case an announcement was lost (unless the feed just did).
            recent = loop.time() - feed.read_begun < poll_s
            seen = hub.generation if woken or recent else hub.bump()
        else:
            seen = hub.generation
        await feed.catch_up(seen, cursor)
        page = feed.page(viewer, cursor)
        if page is None:
            page = await asyncio.to_thread(read, cursor)
        cursor, pending = page


def notify_after_commit(session: Session, hub: EventHub) -> None:
    """Wake this process's streams if the committed transaction recorded events."""
    if session.info.pop("events_recorded", False):
        hub.notify()
