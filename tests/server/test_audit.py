"""The audit trail of a customer: every change of the sheet, its contacts and visits, with
who, when, and the fields before and after; only for those who may see the customer."""

from __future__ import annotations

import uuid
from typing import Any

from tests.server.conftest import ClientFor, all_changes_since, create_sheet, push, read_sheet
from tests.server.test_contact_records import step


def test_every_change_of_a_customer_is_in_its_trail(
    client_for: ClientFor, customer_factory: Any
) -> None:
    agent = client_for("agent")
    sheet = create_sheet(agent, customer_factory(department="North", location="Rom 1"))
    # A sheet edit, and a contact with a note
    current = read_sheet(agent, sheet["id"])
    edited = agent.put(
        f"/api/v1/customers/{sheet['id']}",
        json={"version": current["version"], "location": "Rom 2, 3. etasje"},
    )
    assert edited.status_code == 200, edited.text
    contact_id = str(uuid.uuid4())
    results = push(
        agent,
        "desk-1",
        [
            step(contact_id, "create", {"channel": "phone", "customer_id": sheet["id"]}),
            step(contact_id, "note", {"id": "n1", "text": "Skriveren er nede — 打印机坏了"}),
        ],
    )
    assert [r["status"] for r in results] == ["applied", "applied"]
    # Then the trail shows each change, newest first, with who and before/after
    response = agent.get(f"/api/v1/customers/{sheet['id']}/audit")
    assert response.status_code == 200, response.text
    trail = response.json()
    kinds = [(e["entity"], e["op"]) for e in trail]
    assert kinds[:2] == [("contact", "note"), ("contact", "create")]
    assert ("sheet", "update") in kinds and kinds[-1] == ("sheet", "create")
    update = next(e for e in trail if (e["entity"], e["op"]) == ("sheet", "update"))
    assert update["before"] == {"location": "Rom 1"}
    assert update["after"] == {"location": "Rom 2, 3. etasje"}
    assert update["who"] == "Agent.North"
    note = trail[0]
    assert [n["text"] for n in note["after"]["notes"]] == ["Skriveren er nede — 打印机坏了"]
    assert note["before"]["notes"] == []
    assert all(e["at"] for e in trail)


def test_the_trail_is_for_those_who_may_see_the_customer(
    client_for: ClientFor, customer_factory: Any
) -> None:
    sheet = create_sheet(client_for("agent"), customer_factory(department="North"))
    path = f"/api/v1/customers/{sheet['id']}/audit"
    assert client_for("agent_south").get(path).status_code == 404
    assert client_for("trainee").get(path).status_code == 403
    assert client_for("supervisor").get(path).status_code == 200


def test_seeing_a_customer_does_not_open_others_messages_or_calls_in_its_trail(
    client_for: ClientFor, customer_factory: Any
) -> None:
    from tests.server.test_messages_api import take

    # An unassigned customer (every department sees it), a message about them for the
    # South agent, and a South contact with them
    sheet = create_sheet(client_for("supervisor"), customer_factory(department=""))
    message = take(client_for("agent_south"), customer_id=sheet["id"])
    contact_id = str(uuid.uuid4())
    push(
        client_for("agent_south"),
        "south-desk",
        [step(contact_id, "create", {"channel": "phone", "customer_id": sheet["id"]})],
    )
    path = f"/api/v1/customers/{sheet['id']}/audit"
    everything = {e["entity_id"] for e in client_for("supervisor").get(path).json()}
    assert {message["id"], contact_id} <= everything
    # The North agent sees the customer and its sheet's history, not South's message; the
    # call shows exactly as the agent's desk may pull it
    north = client_for("agent").get(path)
    assert north.status_code == 200
    seen = {(e["entity"], e["entity_id"]) for e in north.json()}
    assert ("sheet", sheet["id"]) in seen
    assert ("message", message["id"]) not in seen
    pulled = {c["id"] for c in all_changes_since(client_for("agent"), 0)}
    assert (("contact", contact_id) in seen) == (contact_id in pulled)
