"""Desks record what happens to contacts: answer, end, wrap-up, notes, promises, hand logs."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from agentdesk.server.config import ServerSettings
from tests.conftest import LiveServer
from tests.server.conftest import ClientFor, create_sheet, push
from tests.server.test_telephony import event, oslo_number

Json = dict[str, Any]


def step(contact_id: str, op: str, fields: Json, *, entity: str = "contact") -> Json:
    return {
        "id": str(uuid.uuid4()),
        "entity": entity,
        "entity_id": contact_id,
        "op": op,
        "base_version": 0,
        "fields": fields,
    }


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture
def ringing(pbx: httpx.Client) -> Callable[[str], Json]:
    def ring(number: str) -> Json:
        return event(pbx, event="ringing", call_id=uuid.uuid4().hex, **{"from": number})

    return ring


def test_a_call_answered_on_the_desk_is_owned_ended_and_wrapped_up(
    client_for: ClientFor,
    ringing: Callable[[str], Json],
    customer_factory: Callable[..., Json],
) -> None:
    # Given a known caller ringing in
    e164, _ = oslo_number()
    http = client_for("agent")
    sheet = create_sheet(http, customer_factory(phones=[{"label": "office", "number": e164}]))
    call = ringing(e164)
    assert call["customer_id"] == sheet["id"]
    answered_at = now()

    # When the agent answers, ends and wraps up, with a note and a promise
    due = now() + dt.timedelta(days=1)
    results = push(
        http,
        "desk-1",
        [
            step(call["id"], "answer", {"answered_at": iso(answered_at)}),
            step(
                call["id"],
                "note",
                {"id": "n1", "text": "Printer on 2nd floor jams", "at": iso(now())},
            ),
            step(
                call["id"],
                "promise",
                {"id": "p1", "text": "Engineer replaces the fuser", "due_at": iso(due)},
            ),
            step(call["id"], "end", {"ended_at": iso(now())}),
            step(
                call["id"],
                "wrap_up",
                {"category": "printing", "outcome": "follow-up", "acw_s": 42},
            ),
        ],
    )

    # Then every step applied, in order, and the record tells the whole story
    assert [r["status"] for r in results] == ["applied"] * 5, results
    record = results[-1]["record"]
    assert record["state"] == "ended"
    assert record["owner_name"] == "Agent.North"
    assert record["answered_by"] == "agent.north"
    assert dt.datetime.fromisoformat(record["answered_at"]) == answered_at
    assert record["speed_of_answer_s"] >= 0
    assert [n["text"] for n in record["notes"]] == ["Printer on 2nd floor jams"]
    assert record["promises"][0]["due_at"] == due.isoformat()
    assert record["wrap_up"]["category"] == "printing"
    assert record["wrap_up"]["acw_s"] == 42.0
    assert [r["version"] for r in results] == sorted(r["version"] for r in results)


def test_the_first_agent_owns_the_call_and_a_second_is_told_who(
    live_server: LiveServer, client_for: ClientFor, ringing: Callable[[str], Json]
) -> None:
    # Given a call from an unknown number, answered by one agent
    e164, _ = oslo_number()
    call = ringing(e164)
    first = push(client_for("agent"), "desk-1", [step(call["id"], "answer", {})])
    assert first[0]["status"] == "applied"

    # When a supervisor's desk and a second agent's desk both try to take it
    with live_server.http("agent") as again:
        second = push(again, "desk-2", [step(call["id"], "answer", {})])

    # Then the same user answering twice is fine, but nobody else may wrap it up
    assert second[0]["status"] == "applied"
    wrap = push(
        client_for("engineer"),
        "desk-3",
        [step(call["id"], "wrap_up", {"category": "other", "outcome": "solved"})],
    )
    assert wrap[0]["status"] == "rejected"
    assert wrap[0]["errors"] == [
        {"field": "owner", "message": "only Agent.North can wrap this contact up"}
    ]


def test_a_call_the_caller_gave_up_on_cannot_be_answered(
    client_for: ClientFor, ringing: Callable[[str], Json], pbx: httpx.Client
) -> None:
    call = ringing(oslo_number()[0])
    event(pbx, event="hangup", call_id=call["call_id"], cause="cancel")

    results = push(client_for("agent"), "desk-1", [step(call["id"], "answer", {})])

    assert results[0]["status"] == "rejected"
    assert results[0]["errors"][0]["field"] == "state"


def test_a_repeated_step_is_applied_once(
    client_for: ClientFor, ringing: Callable[[str], Json]
) -> None:
    call = ringing(oslo_number()[0])
    http = client_for("agent")
    note = step(call["id"], "note", {"id": "n-1", "text": "Caller spells name Ødegård"})
    push(http, "desk-1", [step(call["id"], "answer", {})])

    first = push(http, "desk-1", [note])
    again = push(http, "desk-1", [note])

    assert first[0]["status"] == "applied"
    assert again[0]["status"] == "duplicate"
    assert len(again[0]["record"]["notes"]) == 1


def test_an_email_logged_by_hand_is_a_contact_record(
    client_for: ClientFor, customer_factory: Callable[..., Json]
) -> None:
    http = client_for("agent")
    sheet = create_sheet(http, customer_factory(tier="A"))
    contact_id = str(uuid.uuid4())
    received = now() - dt.timedelta(minutes=10)

    results = push(
        http,
        "desk-1",
        [
            step(
                contact_id,
                "create",
                {
                    "channel": "email",
                    "customer_id": sheet["id"],
                    "caller_address": sheet["email"],
                    "offered_at": iso(received),
                },
            )
        ],
    )

    assert results[0]["status"] == "applied", results
    record = results[0]["record"]
    assert record["channel"] == "email"
    assert record["tier"] == "A"  # from the sheet, not from the desk
    assert record["caller_name"] == sheet["name"]
    assert record["state"] == "answered"
    assert dt.datetime.fromisoformat(record["offered_at"]) == received
    changes = http.get("/api/v1/sync/changes", params={"since": 0, "limit": 1000}).json()
    assert any(c["id"] == contact_id for c in changes["changes"])


@pytest.mark.parametrize(
    ("op", "fields", "field", "message"),
    [
        ("create", {"channel": "fax"}, "channel", "choose one of: phone, email, im, walk-in"),
        (
            "promise",
            {"id": "p", "text": "call back ASAP", "due_at": "2020-01-01T00:00:00+00:00"},
            "text",
            "“asap” is not a time: give the date and time in the due field instead",
        ),
        ("promise", {"id": "p", "text": "A call back"}, "due_at", None),
        ("wrap_up", {"category": "printing", "outcome": "escalated"}, "handed_to", None),
        ("note", {"id": "n", "text": "   "}, "text", None),
        ("answer", {"answered_at": "yesterday"}, "answered_at", None),
    ],
)
def test_bad_steps_are_refused_naming_the_field(  # noqa: PLR0917
    client_for: ClientFor,
    ringing: Callable[[str], Json],
    op: str,
    fields: Json,
    field: str,
    message: str | None,
) -> None:
    call = ringing(oslo_number()[0])
    http = client_for("agent")
    if op not in ("create", "answer"):
        push(http, "desk-1", [step(call["id"], "answer", {})])
    target = str(uuid.uuid4()) if op == "create" else call["id"]

    results = push(http, "desk-1", [step(target, op, fields)])

    assert results[0]["status"] == "rejected"
    fields_named = {e["field"]: e["message"] for e in results[0]["errors"]}
    assert field in fields_named, results[0]["errors"]
    if message is not None:
        assert fields_named[field] == message


def test_contacts_of_another_department_are_not_found(
    client_for: ClientFor, customer_factory: Callable[..., Json], ringing: Callable[[str], Json]
) -> None:
    e164, _ = oslo_number()
    create_sheet(
        client_for("agent"),
        customer_factory(phones=[{"label": "office", "number": e164}], department="North"),
    )
    call = ringing(e164)

    results = push(client_for("agent_south"), "desk-9", [step(call["id"], "answer", {})])

    assert results[0]["status"] == "rejected"
    assert results[0]["errors"] == [{"field": "id", "message": "no such contact"}]


def test_the_phone_system_naming_the_agent_makes_them_the_owner(
    client_for: ClientFor, ringing: Callable[[str], Json], pbx: httpx.Client
) -> None:
    call = ringing(oslo_number()[0])

    answered = event(pbx, event="answered", call_id=call["call_id"], agent="agent.north")

    assert answered["owner_name"] == "Agent.North"
    assert answered["owner_id"]


@pytest.mark.parametrize(
    ("op", "fields", "field"),
    [
        ("create", {"channel": "email", "caller_address": "x" * 100}, "caller_address"),
        (
            "create",
            {"channel": "email", "caller_name": "x", "offered_at": "0001-01-01T00:00:00+01:00"},
            "offered_at",
        ),
        (
            "promise",
            {"id": "p", "text": "Fix the disk", "due_at": "9999-12-31T23:59:59-01:00"},
            "due_at",
        ),
        ("wrap_up", {"category": "other", "outcome": "solved", "acw_s": 10**400}, "acw_s"),
        ("note", {"id": "n", "text": "a\u0000b"}, "text"),
        ("note", {"id": "n", "text": {"a": 1}}, "text"),
        ("note", {"id": ["n"], "text": "ok"}, "id"),
    ],
)
def test_values_the_database_cannot_hold_are_refused_not_a_server_error(
    client_for: ClientFor, op: str, fields: Json, field: str
) -> None:
    # Given a contact logged by hand (unless the step creates one)
    http = client_for("agent")
    contact_id = str(uuid.uuid4())
    if op != "create":
        created = push(
            http, "d", [step(contact_id, "create", {"channel": "im", "caller_name": "x"})]
        )
        assert created[0]["status"] == "applied"
    # When the step carries a value no column or calendar can hold
    body = json.dumps({"device_id": "d", "mutations": [step(contact_id, op, fields)]})
    response = http.post(
        "/api/v1/sync/push", content=body, headers={"content-type": "application/json"}
    )
    # Then it is refused, naming the field, and the push itself succeeds
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["status"] == "rejected"
    assert field in {e["field"] for e in result["errors"]}, result["errors"]


def test_only_the_owner_links_a_contact_to_a_customer(
    client_for: ClientFor, ringing: Callable[[str], Json], customer_factory: Callable[..., Json]
) -> None:
    call = ringing(oslo_number()[0])
    push(client_for("agent"), "d1", [step(call["id"], "answer", {})])
    sheet = create_sheet(client_for("supervisor"), customer_factory(department="North"))

    results = push(
        client_for("engineer"), "d2", [step(call["id"], "link", {"customer_id": sheet["id"]})]
    )

    assert results[0]["status"] == "rejected"
    assert results[0]["errors"][0]["field"] == "owner"


def test_an_unplaced_call_belongs_to_the_department_of_the_agent_who_answers_it(
    client_for: ClientFor, ringing: Callable[[str], Json]
) -> None:
    # Given a call from an unknown number, which every department's queue shows
    call = ringing(oslo_number()[0])
    south = client_for("agent_south")
    seen = south.get("/api/v1/sync/changes", params={"since": 0, "limit": 1000}).json()
    assert any(c["id"] == call["id"] for c in seen["changes"])
    cursor = seen["cursor"]

    # When an agent of North answers it
    push(client_for("agent"), "d1", [step(call["id"], "answer", {})])

    # Then South no longer receives it
    later = south.get("/api/v1/sync/changes", params={"since": cursor, "limit": 1000}).json()
    assert all(c["id"] != call["id"] for c in later["changes"])


def test_a_phone_system_cannot_make_an_agent_of_another_department_the_owner(
    client_for: ClientFor,
    pbx: httpx.Client,
    customer_factory: Callable[..., Json],
) -> None:
    e164, _ = oslo_number()
    create_sheet(
        client_for("supervisor"),
        customer_factory(phones=[{"label": "office", "number": e164}], department="North"),
    )
    call = event(pbx, event="ringing", call_id=uuid.uuid4().hex, **{"from": e164})

    answered = event(pbx, event="answered", call_id=call["call_id"], agent="agent.south")

    assert answered["state"] == "answered"
    assert answered["owner_id"] is None


# --- hold and transfer ----------------------------------------------------------------------


def test_the_directory_lists_colleagues_with_their_direct_numbers_and_teams(
    client_for: ClientFor,
) -> None:
    response = client_for("agent").get("/api/v1/directory")
    assert response.status_code == 200, response.text
    directory = response.json()
    names = {u["username"] for u in directory["users"]}
    assert {"agent.north", "agent.south", "engineer", "boss"} <= names
    assert "trainee" not in names  # a trainee does not take live calls
    assert {"North", "South"} <= set(directory["teams"])


def test_hold_segments_and_check_backs_are_kept_on_the_record(
    client_for: ClientFor, ringing: Callable[[str], Json]
) -> None:
    call = ringing(oslo_number()[0])
    start = now()
    results = push(
        client_for("agent"),
        "d1",
        [
            step(call["id"], "answer", {}),
            step(call["id"], "hold", {"id": "h1", "reason": "check", "at": iso(start)}),
            step(
                call["id"],
                "check_back",
                {"id": "h1", "at": iso(start + dt.timedelta(seconds=33)), "late_s": 3},
            ),
            step(
                call["id"],
                "resume",
                {"id": "h1", "at": iso(start + dt.timedelta(seconds=50)), "how": "resumed"},
            ),
        ],
    )
    assert [r["status"] for r in results] == ["applied"] * 4, results
    hold = results[-1]["record"]["holds"][0]
    assert (hold["reason"], hold["how"]) == ("check", "resumed")
    assert hold["check_backs"] == [{"at": iso(start + dt.timedelta(seconds=33)), "late_s": 3.0}]
    assert dt.datetime.fromisoformat(hold["end"]) - dt.datetime.fromisoformat(
        hold["start"]
    ) == dt.timedelta(seconds=50)


def test_a_warm_transfer_is_accepted_by_the_colleague_who_then_owns_the_call(
    client_for: ClientFor, ringing: Callable[[str], Json]
) -> None:
    call = ringing(oslo_number()[0])
    agent, engineer = client_for("agent"), client_for("engineer")
    offered = push(
        agent,
        "d1",
        [
            step(call["id"], "answer", {}),
            step(
                call["id"],
                "transfer",
                {
                    "id": "t1",
                    "to_user": "engineer",
                    "mode": "warm",
                    "announcement": "Kari Nordmann, printer jams on floor 2, you fixed it",
                },
            ),
        ],
    )
    assert offered[-1]["record"]["transfers"][0]["state"] == "offered"
    # Someone else may not answer it
    wrong = push(
        client_for("agent_south"),
        "d3",
        [step(call["id"], "transfer_answer", {"id": "t1", "accepted": True})],
    )
    assert wrong[0]["status"] == "rejected"

    accepted = push(
        engineer, "d2", [step(call["id"], "transfer_answer", {"id": "t1", "accepted": True})]
    )

    assert accepted[0]["status"] == "applied", accepted
    record = accepted[0]["record"]
    assert record["transfers"][0]["state"] == "accepted"
    assert record["owner_name"] == "Engineer"
    # The colleague now owns it: they wrap it up, the first agent may not
    refused = push(
        agent, "d1", [step(call["id"], "wrap_up", {"category": "printing", "outcome": "solved"})]
    )
    assert refused[0]["status"] == "rejected"


def test_a_declined_transfer_returns_the_call_to_the_agent(
    client_for: ClientFor, ringing: Callable[[str], Json]
) -> None:
    call = ringing(oslo_number()[0])
    agent = client_for("agent")
    push(
        agent,
        "d1",
        [
            step(call["id"], "answer", {}),
            step(
                call["id"],
                "transfer",
                {"id": "t2", "to_team": "North", "mode": "warm", "announcement": "VPN"},
            ),
        ],
    )
    declined = push(
        client_for("engineer"),
        "d2",
        [step(call["id"], "transfer_answer", {"id": "t2", "accepted": False})],
    )
    record = declined[0]["record"]
    assert record["transfers"][0]["state"] == "declined"
    assert record["owner_name"] == "Agent.North"
    done = push(
        agent, "d1", [step(call["id"], "wrap_up", {"category": "network", "outcome": "solved"})]
    )
    assert done[0]["status"] == "applied"


def test_the_site_tells_desks_its_check_back_interval(client_for: ClientFor) -> None:
    response = client_for("agent").get("/api/v1/site")
    assert response.status_code == 200, response.text
    assert response.json() == {"check_back_interval_s": 30.0, "organisation": ""}


@pytest.mark.parametrize(("raw", "expected"), [("", 30.0), ("35", 35.0), ("40", 40.0)])
def test_the_check_back_interval_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: float
) -> None:
    monkeypatch.setenv("AGENTDESK_CHECK_BACK_S", raw)
    assert ServerSettings(db_url="sqlite://").check_back_interval_s == expected


@pytest.mark.parametrize("raw", ["29", "41", "soon"])
def test_a_check_back_interval_outside_30_to_40_seconds_stops_the_server(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("AGENTDESK_CHECK_BACK_S", raw)
    with pytest.raises(ValueError, match=r"AGENTDESK_CHECK_BACK_S must be between 30 and 40"):
        ServerSettings(db_url="sqlite://")


def test_a_call_cannot_be_handed_to_a_colleague_who_cannot_see_it(
    client_for: ClientFor, ringing: Callable[[str], Json], customer_factory: Callable[..., Json]
) -> None:
    e164, _ = oslo_number()
    create_sheet(
        client_for("supervisor"),
        customer_factory(phones=[{"label": "office", "number": e164}], department="North"),
    )
    call = ringing(e164)
    results = push(
        client_for("agent"),
        "d1",
        [
            step(call["id"], "answer", {}),
            step(
                call["id"],
                "transfer",
                {"id": "t9", "to_user": "agent.south", "mode": "warm", "announcement": "VPN"},
            ),
        ],
    )
    assert results[1]["status"] == "rejected"
    assert results[1]["errors"][0]["field"] == "to_user"
    assert "another department" in results[1]["errors"][0]["message"]


def test_a_blind_transfer_hands_the_call_to_the_colleague_at_once(
    client_for: ClientFor, ringing: Callable[[str], Json]
) -> None:
    call = ringing(oslo_number()[0])
    results = push(
        client_for("agent"),
        "d1",
        [
            step(call["id"], "answer", {}),
            step(call["id"], "hold", {"id": "h1", "reason": "colleague"}),
            step(call["id"], "transfer", {"id": "t8", "to_user": "engineer", "mode": "blind"}),
        ],
    )
    record = results[-1]["record"]
    assert record["transfers"][0]["state"] == "blind"
    assert record["owner_name"] == "engineer"
    me = client_for("engineer").get("/api/v1/auth/me").json()
    assert record["owner_id"] == me["id"]
    assert record["holds"][0]["how"] == "transferred"
