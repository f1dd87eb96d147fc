"""Messages over the API: take one for a colleague, deliver it at once, move it along, escalate.

Every test runs against the real server process, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import httpx

from tests.server.conftest import ClientFor, all_changes_since, newest_cursor, push
from tests.server.test_contact_records import step
from tests.server.test_events import reader_for  # noqa: F401 (fixture)

Json = dict[str, Any]
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def tomorrow_at(hour: int, tz: dt.tzinfo = SHANGHAI) -> dt.datetime:
    day = dt.datetime.now(tz).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=tz)


def message(**changes: Any) -> Json:
    """A complete message from a caller in Shanghai for the South agent."""
    body: Json = {
        "first_name": "Wei",
        "last_name": "王",
        "for_user": "agent.south",
        "organisation": "上海远东贸易有限公司",
        "phone": "+86 21 6321 1234",
        "message": "打印服务器无法连接,请回电。",
        "urgency": "high",
        "callback_after": tomorrow_at(9).isoformat(),
        "callback_before": tomorrow_at(11).isoformat(),
        "caller_timezone": "Asia/Shanghai",
        "language": "zh_CN",
    }
    body.update(changes)
    return body


def take(http: httpx.Client, **changes: Any) -> Json:
    response = http.post("/api/v1/messages", json=message(**changes))
    assert response.status_code == 201, response.text
    found: Json = response.json()
    return found


def errors_of(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["loc"][-1]: e["msg"] for e in response.json()["detail"]}


def ids(http: httpx.Client, **params: Any) -> list[str]:
    response = http.get("/api/v1/messages", params=params)
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()]


def test_a_message_is_taken_complete_and_only_its_parties_see_it(client_for: ClientFor) -> None:
    # Given the North agent takes a message for the South agent
    taken = take(client_for("agent"))
    # Then it is stored whole: E.164 number, who took it and when, for whom
    assert taken["phone"] == "+862163211234"
    assert taken["phone_display"] == "+86 21 6321 1234"
    assert (taken["taken_by"], taken["for_user"], taken["state"]) == (
        "agent.north",
        "agent.south",
        "new",
    )
    assert taken["for_name"] == "Agent.South"
    assert dt.datetime.fromisoformat(taken["callback_after"]) == tomorrow_at(9)
    assert taken["history"][0]["what"] == "taken"
    # And the recipient, the sender and a supervisor see it; a colleague who is neither does not
    assert taken["id"] in ids(client_for("agent_south"), mine=True)
    assert taken["id"] in ids(client_for("agent"))
    assert taken["id"] not in ids(client_for("agent"), mine=True)
    assert taken["id"] in ids(client_for("supervisor"))
    assert taken["id"] not in ids(client_for("engineer"))
    assert client_for("engineer").get(f"/api/v1/messages/{taken['id']}").status_code == 404


def test_a_number_without_area_code_is_refused_naming_the_phone_field(
    client_for: ClientFor,
) -> None:
    http = client_for("agent")
    # A number without its country or area code
    assert (
        "country code"
        in errors_of(http.post("/api/v1/messages", json=message(phone="6321 1234")))["phone"]
    )
    # A number cut short: its area code is missing
    short = errors_of(http.post("/api/v1/messages", json=message(phone="+47 2233")))
    assert "area code" in short["phone"]
    # A number that cannot exist in its country
    invalid = errors_of(http.post("/api/v1/messages", json=message(phone="+86 00 1234 5678")))
    assert "phone" in invalid


def test_every_missing_field_is_named_at_once(client_for: ClientFor) -> None:
    response = client_for("agent").post(
        "/api/v1/messages",
        json=message(
            first_name="",
            last_name=" ",
            organisation="",
            message="",
            for_user="nobody.here",
            caller_timezone="Mars/Olympus",
            callback_after="2026-11-24T09:00:00",
        ),
    )
    found = errors_of(response)
    assert set(found) == {
        "first_name",
        "last_name",
        "organisation",
        "message",
        "for_user",
        "caller_timezone",
        "callback_after",
    }
    assert "time zone offset" in found["callback_after"]
    assert "nobody.here" in found["for_user"]
    # And a window that ends before it starts, or has passed, is refused by name
    backwards = message(
        callback_after=tomorrow_at(11).isoformat(), callback_before=tomorrow_at(9).isoformat()
    )
    assert (
        "later than"
        in errors_of(client_for("agent").post("/api/v1/messages", json=backwards))[
            "callback_before"
        ]
    )
    urgency = client_for("agent").post("/api/v1/messages", json=message(urgency="whenever"))
    assert "urgency" in errors_of(urgency)


def test_a_trainee_takes_no_messages(client_for: ClientFor) -> None:
    response = client_for("trainee").post("/api/v1/messages", json=message())
    assert errors_of(response)["role"].startswith("your role may not")


def test_the_recipient_acknowledges_calls_back_or_hands_it_on(client_for: ClientFor) -> None:
    taken = take(client_for("agent"))
    url = f"/api/v1/messages/{taken['id']}"
    # The one who took it cannot acknowledge it for the recipient
    refused = client_for("agent").post(f"{url}/acknowledge")
    assert "Agent.South" in errors_of(refused)["for_user"]
    # The recipient acknowledges it
    south = client_for("agent_south")
    acknowledged = south.post(f"{url}/acknowledge").json()
    assert acknowledged["state"] == "acknowledged"
    # …and hands it on to the engineer, who now sees it as new
    handed = south.post(f"{url}/hand-on", json={"to_user": "engineer", "note": "Printer on site"})
    assert handed.status_code == 200, handed.text
    assert (handed.json()["state"], handed.json()["for_user"]) == ("new", "engineer")
    engineer = client_for("engineer")
    assert taken["id"] in ids(engineer, mine=True)
    assert taken["id"] not in ids(south, mine=True)
    assert taken["id"] in ids(south)  # it was theirs: they still see what became of it
    # An empty outcome is refused; then the engineer calls back
    assert "outcome" in errors_of(engineer.post(f"{url}/called-back", json={"outcome": " "}))
    done = engineer.post(f"{url}/called-back", json={"outcome": "Rebooted the print server"})
    assert done.json()["state"] == "called_back"
    assert [h["what"] for h in done.json()["history"]] == [
        "taken",
        "acknowledged",
        "handed on",
        "called back",
    ]
    assert done.json()["history"][2]["note"] == "Printer on site"


def test_a_team_message_reaches_every_member(client_for: ClientFor) -> None:
    taken = take(client_for("agent_south"), for_user=None, for_team="North")
    assert (taken["for_team"], taken["for_name"]) == ("North", "North")
    assert taken["id"] in ids(client_for("agent"), mine=True)
    assert taken["id"] in ids(client_for("engineer"), mine=True)
    acknowledged = client_for("engineer").post(f"/api/v1/messages/{taken['id']}/acknowledge")
    assert acknowledged.json()["state"] == "acknowledged"


def test_the_message_reaches_the_recipients_desk_at_once(
    client_for: ClientFor,
    reader_for: Any,  # noqa: F811
) -> None:
    south, engineer = reader_for("agent_south"), reader_for("engineer")
    taken = take(client_for("agent"))
    heard = south.next_matching(lambda e: e.kind == "message" and e.data["id"] == taken["id"])
    assert heard.data["message"] == "打印服务器无法连接,请回电。"
    assert engineer.none_within(0.8)


def test_desks_pull_messages_they_may_see_and_push_steps_once(client_for: ClientFor) -> None:
    south = client_for("agent_south")
    cursor = newest_cursor(south)
    engineer_cursor = newest_cursor(client_for("engineer"))
    # Given a message taken on a desk and pushed through the sync (as an offline desk would)
    message_id = str(uuid.uuid4())
    create = {**step(message_id, "create", message(), entity="message")}
    first = push(client_for("agent"), "desk-a", [create])
    assert first[0]["status"] == "applied", first
    again = push(client_for("agent"), "desk-a", [create])
    assert again[0]["status"] == "duplicate"
    # Then the recipient's pull carries it, once; the engineer's does not
    pulled = [c for c in all_changes_since(south, cursor) if c["entity"] == "message"]
    assert [c["id"] for c in pulled] == [message_id]
    assert pulled[0]["data"]["for_user"] == "agent.south"
    others = all_changes_since(client_for("engineer"), engineer_cursor)
    assert message_id not in [c["id"] for c in others]
    # And a bad number pushed from a desk is rejected naming the field, not lost silently
    bad = push(
        client_for("agent"),
        "desk-a",
        [step(str(uuid.uuid4()), "create", message(phone="123"), entity="message")],
    )
    assert bad[0]["status"] == "rejected"
    assert bad[0]["errors"][0]["field"] == "phone"


def test_an_overdue_callback_is_escalated_to_the_owner_and_supervisors(
    client_for: ClientFor,
) -> None:
    # Given a callback whose window closes in a moment
    now = dt.datetime.now(dt.UTC)
    taken = take(
        client_for("agent"),
        urgency="urgent",
        callback_after=now.isoformat(),
        callback_before=(now + dt.timedelta(seconds=1.5)).isoformat(),
    )
    assert taken["id"] not in [
        e["id"] for e in client_for("supervisor").get("/api/v1/escalations").json()
    ]
    # When it passes without a call back
    time.sleep(2.0)
    # Then it is escalated: on the supervisors' list and the owner's, marked overdue
    listed = client_for("supervisor").get("/api/v1/escalations").json()
    mine = client_for("agent_south").get("/api/v1/escalations").json()
    assert taken["id"] in [e["id"] for e in listed]
    assert taken["id"] in [e["id"] for e in mine]
    assert taken["id"] not in [
        e["id"] for e in client_for("engineer").get("/api/v1/escalations").json()
    ]
    entry = next(e for e in listed if e["id"] == taken["id"])
    assert entry["kind"] == "callback" and entry["late_s"] > 0 and entry["owner"] == "Agent.South"
    assert client_for("agent_south").get(f"/api/v1/messages/{taken['id']}").json()["overdue"]
    # And calling back takes it off the list
    client_for("agent_south").post(
        f"/api/v1/messages/{taken['id']}/called-back", json={"outcome": "Solved on the phone"}
    )
    after = client_for("supervisor").get("/api/v1/escalations").json()
    assert taken["id"] not in [e["id"] for e in after]


def test_a_promise_past_its_time_is_escalated_until_kept(client_for: ClientFor) -> None:
    http = client_for("agent")
    contact_id = str(uuid.uuid4())
    now = dt.datetime.now(dt.UTC)
    promise_id = str(uuid.uuid4())
    results = push(
        http,
        "desk-p",
        [
            step(contact_id, "create", {"channel": "walk-in", "caller_name": "Kari Nordmann"}),
            step(
                contact_id,
                "promise",
                {
                    "id": promise_id,
                    "text": "Loan laptop ready",
                    "due_at": (now + dt.timedelta(seconds=1.5)).isoformat(),
                },
            ),
        ],
    )
    assert [r["status"] for r in results] == ["applied", "applied"], results
    time.sleep(2.0)
    listed = client_for("supervisor").get("/api/v1/escalations").json()
    assert promise_id in [e["id"] for e in listed if e["kind"] == "promise"]
    assert promise_id in [e["id"] for e in http.get("/api/v1/escalations").json()]
    # Someone else cannot close another agent's promise
    other = push(
        client_for("agent_south"),
        "desk-q",
        [step(contact_id, "keep_promise", {"promise_id": promise_id})],
    )
    assert other[0]["status"] == "rejected"
    kept = push(http, "desk-p", [step(contact_id, "keep_promise", {"promise_id": promise_id})])
    assert kept[0]["status"] == "applied"
    assert kept[0]["record"]["promises"][0]["done_at"]
    listed = client_for("supervisor").get("/api/v1/escalations").json()
    assert promise_id not in [e["id"] for e in listed]


def test_a_team_message_handed_on_stays_visible_to_the_team_with_its_new_owner(
    client_for: ClientFor,
) -> None:
    taken = take(client_for("agent_south"), for_user=None, for_team="North")
    url = f"/api/v1/messages/{taken['id']}"
    handed = client_for("engineer").post(f"{url}/hand-on", json={"to_user": "agent.south"})
    assert handed.status_code == 200, handed.text
    # The North agent, who had it as a team member, sees that it went elsewhere
    seen = client_for("agent").get(url)
    assert seen.status_code == 200
    assert (seen.json()["for_user"], seen.json()["state"]) == ("agent.south", "new")
    assert taken["id"] not in ids(client_for("agent"), mine=True)


def test_the_same_message_posted_twice_is_taken_once(client_for: ClientFor) -> None:
    message_id = str(uuid.uuid4())
    first = client_for("agent").post("/api/v1/messages", json=message(id=message_id))
    again = client_for("agent").post("/api/v1/messages", json=message(id=message_id))
    assert first.status_code == again.status_code == 201
    assert again.json()["version"] == first.json()["version"] == 1
    # Another user cannot claim the id
    other = client_for("agent_south").post("/api/v1/messages", json=message(id=message_id))
    assert other.status_code == 422


def test_a_link_to_a_call_that_is_not_there_does_not_stop_the_message(
    client_for: ClientFor,
) -> None:
    taken = take(client_for("agent"), contact_id=str(uuid.uuid4()))
    assert taken["contact_id"] is None
    assert taken["state"] == "new"
