"""Rehearsals on a trainee's desk: kept while offline, sent once when the server returns
(even when the answer to the push is lost), and seen by the supervisor's desk."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest

from agentdesk.domain.rehearsal import PASS_MARK
from agentdesk.sync.client import Offline
from tests.conftest import LiveServer
from tests.sync.conftest import DeskFactory

GREETING = "Good morning, Northern Lights IT help desk, this is Tom Berg. How can I help you?"


def played(replies: list[str], scenario: str = "greeting") -> dict[str, Any]:
    return {
        "scenario": scenario,
        "language": "en",
        "replies": replies,
        "seconds": [5.0] * len(replies),
        "started_at": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)).isoformat(),
    }


async def test_attempts_played_offline_reach_the_server_once(
    sqlite_server: LiveServer, open_desk: DeskFactory
) -> None:
    trainee = await open_desk(sqlite_server, "trainee", name="trainee")
    boss = await open_desk(sqlite_server, "supervisor", name="boss")
    await trainee.engine.sync_once()
    ids = [str(uuid.uuid4()) for _ in range(3)]
    # Given three rehearsals played while the server is away
    await asyncio.to_thread(sqlite_server.process.stop)
    try:
        for attempt_id, replies in zip(ids, [[GREETING], ["Hello?"], [GREETING]], strict=True):
            kept = await trainee.runner.write(
                trainee.store.record_attempt, attempt_id, "create", played(replies)
            )
            assert kept["unsent"] is True
        # They are scored and shown on the desk at once
        scored = {a["id"]: a for a in trainee.store.attempts("trainee")}
        assert [scored[i]["score"] for i in (ids[0], ids[2])] == [100, 100]
        assert scored[ids[1]]["score"] < PASS_MARK and not scored[ids[1]]["passed"]
        assert trainee.store.outbox_counts().pending == 3
        played_at = {i: scored[i]["finished_at"] for i in ids}
    finally:
        await asyncio.to_thread(sqlite_server.process.start)
    # When the server is back and the first answer to the push is lost
    trainee.wire.lose_next_push_answer = True
    with pytest.raises(Offline):
        await trainee.engine.sync_once()
    await trainee.engine.sync_once()
    # Then the server holds each attempt exactly once, with the server's own score
    assert trainee.store.outbox_counts().pending == 0
    with sqlite_server.http("supervisor") as http:
        on_server = http.get("/api/v1/training/attempts", params={"trainee": "trainee"}).json()
    assert sorted(a["id"] for a in on_server if a["id"] in ids) == sorted(ids)
    assert all("unsent" not in a for a in on_server)
    # Each keeps the time it was played on the desk, not the time it reached the server
    assert {a["id"]: a["finished_at"] for a in on_server if a["id"] in ids} == played_at
    assert {a["id"]: a["score"] for a in on_server if a["id"] in ids} == {
        i: scored[i]["score"] for i in ids
    }
    by_id = {a["id"]: a for a in trainee.store.attempts("trainee")}
    assert all(not by_id[i].get("unsent") for i in ids)
    # And the supervisor's desk pulls them; a review goes back to the trainee
    await boss.engine.sync_once()
    assert {a["id"] for a in boss.store.attempts()} >= set(ids)
    await boss.runner.write(
        boss.store.record_attempt, ids[1], "review", {"text": "Greet with the organisation."}
    )
    await boss.engine.sync_once()
    await trainee.engine.sync_once()
    reviewed = {a["id"]: a for a in trainee.store.attempts("trainee")}[ids[1]]
    assert [r["text"] for r in reviewed["reviews"]] == ["Greet with the organisation."]


async def test_a_refused_assignment_stays_on_the_desk_with_the_reason(
    sqlite_server: LiveServer, open_desk: DeskFactory
) -> None:
    boss = await open_desk(sqlite_server, "supervisor", name="boss")
    assignment_id = str(uuid.uuid4())
    # A supervisor's desk knows a trainee the server no longer lets rehearse
    await boss.runner.write(
        boss.store.record_assignment,
        assignment_id,
        "create",
        {"trainee": "engineer", "trainee_name": "Engineer", "scenario": "hold", "language": "en"},
    )
    await boss.engine.sync_once()
    [issue] = boss.store.refusals("assignment", assignment_id)
    assert issue.errors[0][0] == "trainee"
    assert boss.store.assignments()[0]["refused"] is True


async def test_other_peoples_attempts_never_reach_an_agents_desk(
    sqlite_server: LiveServer, open_desk: DeskFactory
) -> None:
    trainee = await open_desk(sqlite_server, "trainee", name="trainee")
    agent = await open_desk(sqlite_server, "agent", name="agent")
    await trainee.runner.write(
        trainee.store.record_attempt, str(uuid.uuid4()), "create", played([GREETING])
    )
    await trainee.engine.sync_once()
    await agent.engine.sync_once()
    assert agent.store.attempts() == []
    # The agent's own rehearsal is theirs to see
    await agent.runner.write(
        agent.store.record_attempt, str(uuid.uuid4()), "create", played([GREETING])
    )
    await agent.engine.sync_once()
    assert [a["trainee"] for a in agent.store.attempts()] == ["agent.north"]
