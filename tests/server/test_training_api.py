"""Training records through the real server: attempts scored on the server, seen only by
their trainee and supervisors; assignments; standard answers published to every desk.
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from tests.server.conftest import ClientFor, all_changes_since, newest_cursor, push
from tests.server.test_contact_records import step

Json = dict[str, Any]

GREETING = "Good morning, Northern Lights IT help desk, this is Tom Berg. How can I help you?"


def attempt(replies: list[str], *, scenario: str = "greeting", language: str = "en") -> Json:
    return {
        "scenario": scenario,
        "language": language,
        "replies": replies,
        "seconds": [4.0] * len(replies),
        "started_at": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)).isoformat(),
    }


def test_an_attempt_is_scored_by_the_server_and_seen_by_its_trainee_and_supervisors(
    client_for: ClientFor,
) -> None:
    trainee = client_for("trainee")
    cursor = newest_cursor(trainee)
    attempt_id = str(uuid.uuid4())
    fields = {**attempt([GREETING]), "score": 3, "passed": False}  # a score sent is ignored
    [result] = push(trainee, "trainee-desk", [step(attempt_id, "create", fields, entity="attempt")])
    assert result["status"] == "applied", result
    record = result["record"]
    assert (record["trainee"], record["score"], record["passed"]) == ("trainee", 100, True)
    assert record["sections"] == {"greeting": 100}
    # The trainee's pull brings it (and no customer data)
    changes = all_changes_since(trainee, cursor)
    assert {c["entity"] for c in changes} == {"attempt"}
    assert attempt_id in [c["id"] for c in changes]
    # Supervisors see every attempt; another agent does not
    boss = client_for("supervisor")
    assert attempt_id in [a["id"] for a in boss.get("/api/v1/training/attempts").json()]
    assert attempt_id in [
        a["id"] for a in boss.get("/api/v1/training/attempts?trainee=trainee").json()
    ]
    agent = client_for("agent")
    assert attempt_id not in [a["id"] for a in agent.get("/api/v1/training/attempts").json()]
    assert agent.get(f"/api/v1/training/attempts/{attempt_id}").status_code == 404
    # The same push again is answered without keeping it twice
    [again] = push(
        trainee,
        "trainee-desk",
        [{**step(attempt_id, "create", fields, entity="attempt"), "id": result["id"]}],
    )
    assert again["status"] == "duplicate"
    mine = [a["id"] for a in trainee.get("/api/v1/training/attempts").json()]
    assert mine.count(attempt_id) == 1


def test_a_supervisor_reviews_an_attempt_and_a_trainee_may_not(client_for: ClientFor) -> None:
    trainee = client_for("trainee")
    attempt_id = str(uuid.uuid4())
    push(trainee, "d", [step(attempt_id, "create", attempt(["Hello?"]), entity="attempt")])
    [refused] = push(
        trainee, "d", [step(attempt_id, "review", {"text": "Fine."}, entity="attempt")]
    )
    assert refused["status"] == "rejected"
    assert refused["errors"][0]["field"] == "role"
    [reviewed] = push(
        client_for("supervisor"),
        "boss-desk",
        [step(attempt_id, "review", {"text": "Say the organisation first."}, entity="attempt")],
    )
    assert reviewed["status"] == "applied"
    record = trainee.get(f"/api/v1/training/attempts/{attempt_id}").json()
    assert record["passed"] is False
    assert [r["text"] for r in record["reviews"]] == ["Say the organisation first."]


def test_bad_attempts_are_refused_naming_the_field(client_for: ClientFor) -> None:
    trainee = client_for("trainee")
    cases = [
        ({**attempt([GREETING]), "scenario": "no-such"}, "scenario"),
        ({**attempt([GREETING]), "language": "fr"}, "language"),
        ({**attempt([]), "replies": "hello"}, "replies"),
        ({**attempt([GREETING, "a", "b", "c"])}, "replies"),
        ({**attempt([GREETING]), "seconds": [-1]}, "seconds[0]"),
        ({**attempt(["x" * 2001])}, "replies[0]"),
        ({**attempt([GREETING]), "started_at": "yesterday"}, "started_at"),
        ({**attempt([GREETING]), "finished_at": "2999-01-01T00:00:00Z"}, "finished_at"),
        ({**attempt([GREETING]), "finished_at": "2020-01-01T00:00:00Z"}, "started_at"),
    ]
    results = push(
        trainee, "d", [step(str(uuid.uuid4()), "create", f, entity="attempt") for f, _ in cases]
    )
    for (_, field), result in zip(cases, results, strict=True):
        assert result["status"] == "rejected", (field, result)
        assert field in [e["field"] for e in result["errors"]], (field, result)


def test_assignments_reach_their_trainee_only(client_for: ClientFor) -> None:
    trainee = client_for("trainee")
    cursor = newest_cursor(trainee)
    assignment_id = str(uuid.uuid4())
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    fields = {"trainee": "trainee", "scenario": "hold", "language": "nb", "due": due}
    # An agent may not assign
    [refused] = push(
        client_for("agent"), "a", [step(assignment_id, "create", fields, entity="assignment")]
    )
    assert refused["status"] == "rejected" and refused["errors"][0]["field"] == "role"
    [made] = push(
        client_for("supervisor"), "b", [step(assignment_id, "create", fields, entity="assignment")]
    )
    assert made["status"] == "applied", made
    assert (made["record"]["trainee_name"], made["record"]["state"]) == ("Trainee", "open")
    changes = all_changes_since(trainee, cursor)
    assert [(c["entity"], c["id"]) for c in changes] == [("assignment", assignment_id)]
    assert next(a["id"] for a in trainee.get("/api/v1/training/assignments").json()) == (
        assignment_id
    )
    assert assignment_id not in [
        a["id"] for a in client_for("agent").get("/api/v1/training/assignments").json()
    ]
    # Nobody can be assigned who cannot rehearse
    [unknown] = push(
        client_for("supervisor"),
        "b",
        [step(str(uuid.uuid4()), "create", {**fields, "trainee": "boss"}, entity="assignment")],
    )
    assert unknown["status"] == "rejected" and unknown["errors"][0]["field"] == "trainee"
    # Cancelled by the supervisor
    [cancelled] = push(
        client_for("supervisor"), "b", [step(assignment_id, "cancel", {}, entity="assignment")]
    )
    assert cancelled["record"]["state"] == "cancelled"


def test_a_published_standard_answer_reaches_every_desk(client_for: ClientFor) -> None:
    boss = client_for("supervisor")
    text = (
        "God morgen, Nordlys IT brukerstøtte, du snakker med Kari Nilsen. "
        "Hva kan jeg hjelpe deg med i dag?"
    )
    body = {"scenario": "greeting", "language": "nb", "turn": 0, "text": text}
    first = boss.post("/api/v1/training/answers", json=body)
    assert first.status_code == 201, first.text
    second = boss.post("/api/v1/training/answers", json=body)
    assert second.json()["version"] == first.json()["version"] + 1
    for role in ("trainee", "agent", "engineer"):
        answers = client_for(role).get("/api/v1/training/answers").json()
        mine = [
            a for a in answers if (a["scenario"], a["language"], a["turn"]) == ("greeting", "nb", 0)
        ]
        assert [a["version"] for a in mine] == [second.json()["version"]]
        assert mine[0]["text"] == text


def test_a_standard_answer_the_scorer_would_fail_is_refused(client_for: ClientFor) -> None:
    boss = client_for("supervisor")
    weak = {"scenario": "greeting", "language": "en", "turn": 0, "text": "Hello, what's up?"}
    refused = boss.post("/api/v1/training/answers", json=weak)
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["field"] == "text" and "missing" in error["msg"]
    bad_turn = boss.post("/api/v1/training/answers", json={**weak, "turn": 9})
    assert bad_turn.status_code == 422 and bad_turn.json()["detail"][0]["field"] == "turn"
    # Only supervisors publish
    agent = client_for("agent").post("/api/v1/training/answers", json=weak)
    assert agent.status_code == 403


def test_trainees_hear_their_training_events_and_published_answers_only(
    client_for: ClientFor,
) -> None:
    from tests.server.test_messages_api import take

    trainee = client_for("trainee")
    with trainee.stream("GET", "/api/v1/events", params={"heartbeat": 1}) as stream:
        lines = stream.iter_lines()
        boss = client_for("supervisor")
        # Given things the trainee must not hear of: another's assignment, a message for
        # the trainee's own department (real caller data), a customer sheet
        push(
            boss,
            "b",
            [
                step(
                    str(uuid.uuid4()),
                    "create",
                    {"trainee": "agent.north", "scenario": "hold", "language": "en"},
                    entity="assignment",
                ),
            ],
        )
        take(client_for("agent_south"), for_user=None, for_team="North")
        # And two things the trainee must hear of: their assignment, a published answer
        push(
            boss,
            "b",
            [
                step(
                    str(uuid.uuid4()),
                    "create",
                    {"trainee": "trainee", "scenario": "hold", "language": "en"},
                    entity="assignment",
                ),
            ],
        )
        boss.post(
            "/api/v1/training/answers",
            json={"scenario": "greeting", "language": "en", "turn": 0, "text": GREETING},
        )
        heard: list[tuple[str, Json]] = []
        kind = ""
        for line in lines:
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind != "hello":
                heard.append((kind, json.loads(line.split(":", 1)[1])))
                if kind == "answers":
                    break
    # Then only those two arrive, in order
    assert [kind for kind, _ in heard] == ["assignment", "answers"]
    assert heard[0][1]["trainee"] == "trainee"
    # And the trainee cannot read the team's messages either
    assert trainee.get("/api/v1/messages").json() == []


def test_supervisors_list_who_can_be_assigned(client_for: ClientFor) -> None:
    names = [
        u["username"] for u in client_for("supervisor").get("/api/v1/training/trainees").json()
    ]
    assert set(names) == {"trainee", "agent.north", "agent.south"}
    assert client_for("agent").get("/api/v1/training/trainees").status_code == 403
