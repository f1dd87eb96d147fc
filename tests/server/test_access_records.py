"""Who may see and change contacts, messages, visits and training records, through the real
server: agents their own department's, supervisors everything, engineers the sheets of their
visits, trainees no customer data at all."""

from __future__ import annotations

import uuid
from typing import Any

from tests.server.conftest import ClientFor, all_changes_since, create_sheet, push
from tests.server.test_contact_records import step
from tests.server.test_messages_api import take
from tests.server.test_visits_api import schedule


def _north_contact(client_for: ClientFor, customer_factory: Any) -> tuple[dict[str, Any], str]:
    sheet = create_sheet(client_for("agent"), customer_factory(department="North"))
    contact_id = str(uuid.uuid4())
    [made] = push(
        client_for("agent"),
        "north-desk",
        [step(contact_id, "create", {"channel": "phone", "customer_id": sheet["id"]})],
    )
    assert made["status"] == "applied"
    return sheet, contact_id


def test_an_agent_cannot_see_or_change_another_departments_contacts(
    client_for: ClientFor, customer_factory: Any
) -> None:
    south = client_for("agent_south")
    sheet, contact_id = _north_contact(client_for, customer_factory)
    # Not pulled, not changeable (the push answers "no such contact"), no audit trail
    assert contact_id not in {c["id"] for c in all_changes_since(south, 0)}
    [refused] = push(south, "south-desk", [step(contact_id, "note", {"id": "x", "text": "hi"})])
    assert refused["status"] == "rejected" and refused["errors"][0]["field"] == "id"
    assert south.get(f"/api/v1/customers/{sheet['id']}/audit").status_code == 404
    # The supervisor sees it all
    boss = client_for("supervisor")
    assert contact_id in {c["id"] for c in all_changes_since(boss, 0)}
    assert boss.get(f"/api/v1/customers/{sheet['id']}/audit").status_code == 200


def test_an_agent_cannot_read_another_departments_messages(client_for: ClientFor) -> None:
    message = take(client_for("agent_south"), for_user=None, for_team="South")
    path = f"/api/v1/messages/{message['id']}"
    assert client_for("agent").get(path).status_code == 404
    assert client_for("agent").post(f"{path}/acknowledge").status_code == 404
    assert client_for("agent_south").get(path).status_code == 200
    assert client_for("supervisor").get(path).status_code == 200


def test_an_engineer_sees_only_the_sheets_of_their_visits(
    client_for: ClientFor, customer_factory: Any
) -> None:
    engineer = client_for("engineer")
    visited = create_sheet(client_for("supervisor"), customer_factory(department="South"))
    other = create_sheet(client_for("supervisor"), customer_factory(department="South"))
    visit = schedule(client_for, visited["id"])
    assert engineer.get(f"/api/v1/customers/{visited['id']}").status_code == 200
    assert engineer.get(f"/api/v1/customers/{other['id']}").status_code == 404
    assert (
        engineer.put(
            f"/api/v1/customers/{other['id']}", json={"version": 1, "location": "x"}
        ).status_code
        == 404
    )
    assert engineer.get(f"/api/v1/visits/{visit['id']}").status_code == 200
    # And writes the visit's report steps, which another engineer's desk could not
    [arrived] = push(
        engineer, "laptop", [step(visit["id"], "step", {"step": "arrival"}, entity="visit")]
    )
    assert arrived["status"] == "applied", arrived
    [refused] = push(
        client_for("agent"),
        "desk",
        [step(visit["id"], "step", {"step": "arrival"}, entity="visit")],
    )
    assert refused["status"] == "rejected"


def test_a_trainee_gets_no_customer_data_anywhere(
    client_for: ClientFor, customer_factory: Any
) -> None:
    trainee = client_for("trainee")
    sheet, contact_id = _north_contact(client_for, customer_factory)
    message = take(client_for("agent"), for_user=None, for_team="North")
    visit = schedule(client_for, sheet["id"])
    assert trainee.get(f"/api/v1/customers/{sheet['id']}").status_code == 403
    assert trainee.get(f"/api/v1/customers/{sheet['id']}/audit").status_code == 403
    assert trainee.get(f"/api/v1/messages/{message['id']}").status_code == 404
    assert trainee.get(f"/api/v1/visits/{visit['id']}").status_code == 404
    assert {c["entity"] for c in all_changes_since(trainee, 0)} <= {"attempt", "assignment"}
    [refused] = push(trainee, "t", [step(contact_id, "note", {"id": "t", "text": "hi"})])
    assert refused["status"] == "rejected" and refused["errors"][0]["field"] == "role"


def test_nobody_reads_another_trainees_attempt(client_for: ClientFor) -> None:
    attempt_id = str(uuid.uuid4())
    fields = {
        "scenario": "hold",
        "language": "en",
        "replies": ["One moment."],
        "started_at": "2026-11-23T08:00:00+00:00",
    }
    push(client_for("agent_south"), "s", [step(attempt_id, "create", fields, entity="attempt")])
    path = f"/api/v1/training/attempts/{attempt_id}"
    assert client_for("agent").get(path).status_code == 404
    assert client_for("trainee").get(path).status_code == 404
    assert client_for("agent_south").get(path).status_code == 200
    assert client_for("supervisor").get(path).status_code == 200
