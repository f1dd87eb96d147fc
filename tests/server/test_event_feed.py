"""The streams of a process share one read of new events per wake, and each still hears only
what its viewer may see: the same rule in memory as in the database, nothing missed when a
stream falls behind what the process holds, keep-alives only when a stream is quiet."""

from __future__ import annotations

import asyncio
import itertools
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.orm import Session, sessionmaker

from agentdesk.server.accounts import Viewer
from agentdesk.server.db import make_engine, migrate, session_factory
from agentdesk.server.events import (
    CHANNEL,
    TO_EVERY_DESK,
    TRAINING,
    EventFeed,
    EventHub,
    events_after,
    latest_event_id,
    record_event,
    stream,
    visible_to,
)
from agentdesk.server.models import Department
from tests.conftest import PgCluster

KINDS = ("contact", "changes", "message", "visit", *TRAINING, *TO_EVERY_DESK)
ME, YOU = str(uuid.uuid4()), str(uuid.uuid4())


@dataclass
class World:
    sessions: sessionmaker[Session]
    north: int
    south: int

    def record(self, *events: tuple[str, int | None, tuple[str, ...]]) -> None:
        with self.sessions() as session, session.begin():
            for kind, department_id, audience in events:
                record_event(session, kind, {"n": kind}, department_id, audience=audience)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    engine = make_engine(f"sqlite:///{tmp_path / 'events.sqlite'}")
    migrate(engine)
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        north, south = Department(name="North"), Department(name="South")
        session.add_all([north, south])
        session.flush()
        ids = north.id, south.id
    yield World(sessions, *ids)
    engine.dispose()


def _viewers(world: World) -> list[Viewer]:
    return [
        Viewer(ME, "supervisor", None),
        Viewer(ME, "admin", world.north),
        Viewer(ME, "agent", world.north),
        Viewer(ME, "agent", world.south),
        Viewer(ME, "agent", None),
        Viewer(ME, "engineer", world.north),
        Viewer(ME, "trainee", world.north),
        Viewer(YOU, "trainee", None),
    ]


def _every_kind_of_event(world: World) -> None:
    audiences: list[tuple[str, ...]] = [(), (ME,), (YOU,), (ME, YOU)]
    world.record(*itertools.product(KINDS, (None, world.north, world.south), audiences))


def test_the_rule_in_memory_is_the_rule_of_the_database(world: World) -> None:
    # Given every kind of event, for every department and audience
    _every_kind_of_event(world)
    with world.sessions() as session:
        high = latest_event_id(session)
        assert high < 200  # one page
        everything = events_after(session, Viewer(ME, "supervisor", None), 0, high)
        for viewer in _viewers(world):
            # Then whoever looks, the feed's rule picks exactly the events the query does
            by_query = [e.id for e in events_after(session, viewer, 0, high)]
            by_rule = [
                e.id for e in everything if visible_to(viewer, e.kind, e.department_id, e.audience)
            ]
            assert by_rule == by_query, viewer


@dataclass
class Desk:
    viewer: Viewer
    chunks: AsyncIterator[bytes]

    async def next(self, timeout: float = 5.0) -> bytes:
        return await asyncio.wait_for(anext(self.chunks), timeout)

    async def events(self, timeout: float = 5.0) -> list[str]:
        """The ids of the events of the next chunk that carries any."""
        while True:
            chunk = await self.next(timeout)
            ids = [line[4:] for line in chunk.decode().split("\n") if line.startswith("id: ")]
            if ids:
                return ids


async def _open(
    world: World,
    hub: EventHub,
    feed: EventFeed,
    viewer: Viewer,
    *,
    last_id: int | None = None,
    heartbeat_s: float = 60.0,
) -> Desk:
    desk = Desk(
        viewer,
        stream(
            world.sessions, hub, viewer, last_id, feed=feed, poll_s=60.0, heartbeat_s=heartbeat_s
        ),
    )
    assert (await desk.next()).startswith(b"retry:")
    assert b"event: hello" in await desk.next()
    return desk


def _expected(world: World, viewer: Viewer, after: int) -> list[str]:
    with world.sessions() as session:
        return [str(e.id) for e in events_after(session, viewer, after, 10**9)]


async def _record_and_announce(world: World, hub: EventHub, *events: Any) -> None:
    # Routes record events in worker threads and wake the streams after the commit.
    await asyncio.to_thread(world.record, *events)
    hub.notify()


async def test_streams_woken_together_share_one_read_and_hear_only_their_own(
    world: World,
) -> None:
    hub, loop = EventHub(), asyncio.get_running_loop()
    hub.bind(loop)
    feed = EventFeed(world.sessions, hub)
    viewers = [
        Viewer(ME, "supervisor", None),
        Viewer(ME, "agent", world.north),
        Viewer(YOU, "agent", world.south),
        Viewer(ME, "trainee", world.north),
    ]
    desks = [await _open(world, hub, feed, v) for v in viewers for _ in range(5)]
    with world.sessions() as session:
        start = latest_event_id(session)
    everyones = [
        ("contact", world.north, ()),
        ("contact", world.south, ()),
        ("changes", None, ()),
        ("answers", None, ()),
    ]
    addressed = [("message", None, (YOU,)), ("assignment", None, (ME,))]
    # When events for every department arrive at once, some for a few users only, and then
    # lots for everyone the department rule lets see them
    for lot in (everyones + addressed, everyones, addressed + everyones):
        reads = feed.reads
        await _record_and_announce(world, hub, *lot)
        # Then every desk hears exactly what its viewer may see, all read once for all
        heard = await asyncio.gather(*(d.events() for d in desks))
        for desk, ids in zip(desks, heard, strict=True):
            assert ids == _expected(world, desk.viewer, start), desk.viewer
        assert feed.reads == reads + 1
        start = int(heard[0][-1])


async def test_a_stream_behind_what_the_process_holds_misses_nothing(world: World) -> None:
    hub = EventHub()
    hub.bind(asyncio.get_running_loop())
    feed = EventFeed(world.sessions, hub, keep=10)
    agent = Viewer(ME, "agent", world.north)
    live = await _open(world, hub, feed, agent)
    # Given a desk that follows the stream, and more events than the process holds
    await _record_and_announce(world, hub, *[("contact", world.north, ())] * 25)
    first = await live.events()
    assert len(first) == 25
    await _record_and_announce(world, hub, *[("contact", None, ())] * 30)
    second = await live.events()
    assert len(second) == 30
    # When a desk resumes from the first of them, and more arrive
    resumed = await _open(world, hub, feed, agent, last_id=int(first[0]))
    caught_up = await resumed.events()
    await _record_and_announce(world, hub, ("contact", world.north, ()))
    third, resumed_third = await live.events(), await resumed.events()
    # Then both heard every event once, in order
    assert first + second + third == _expected(world, agent, int(first[0]) - 1)
    assert caught_up + resumed_third == (first + second + third)[1:]


async def test_a_quiet_stream_keeps_the_connection_alive(world: World) -> None:
    hub = EventHub()
    hub.bind(asyncio.get_running_loop())
    feed = EventFeed(world.sessions, hub)
    desk = await _open(world, hub, feed, Viewer(ME, "agent", world.south), heartbeat_s=0.3)
    # When only another department's events arrive
    await _record_and_announce(world, hub, ("contact", world.north, ()))
    # Then the desk hears a keep-alive when the heartbeat is due, and nothing else
    assert await desk.next(timeout=2.0) == b": keep-alive\n\n"
    await _record_and_announce(world, hub, ("contact", world.south, ()))
    assert len(await desk.events()) == 1


def test_events_recorded_in_savepoints_are_announced_once_at_commit(
    pg_cluster: PgCluster,
) -> None:
    db_url = pg_cluster.new_database()
    engine = make_engine(db_url)
    migrate(engine)
    sessions = session_factory(engine)
    dsn = db_url.replace("postgresql+psycopg://", "postgresql://", 1)
    heard: list[str] = []
    listening = threading.Event()

    def listen() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            listening.set()
            for note in conn.notifies(timeout=3.0):
                heard.append(note.channel)

    listener = threading.Thread(target=listen)
    listener.start()
    assert listening.wait(10)
    try:
        # A transaction rolled back announces nothing
        with sessions() as session:
            record_event(session, "contact", {}, None)
            session.rollback()
        # Events recorded in savepoints (as a pushed batch records them) are announced
        # when the transaction commits
        with sessions() as session, session.begin():
            for _ in range(3):
                with session.begin_nested():
                    record_event(session, "contact", {}, None)
    finally:
        listener.join(10)
        engine.dispose()
    assert heard == [CHANNEL]
