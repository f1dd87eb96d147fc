"""A page of changes as sent: sheets copied from the database as stored, with their search
text; a pushed batch numbered in order under one lock of the change sequence."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from agentdesk.domain.customers import parse_customer, search_text
from agentdesk.wire import ChangesPage
from tests.server.conftest import (
    ClientFor,
    Json,
    all_changes_since,
    create_sheet,
    newest_cursor,
    push,
    update_mutation,
)

SheetFactory = Callable[..., Json]


def _contact(customer_id: str | None = None, *, channel: str = "phone") -> Json:
    fields: Json = {"channel": channel, "caller_name": "Bjørn Sæther"}
    if customer_id:
        fields["customer_id"] = customer_id
    return {
        "id": str(uuid.uuid4()),
        "entity": "contact",
        "entity_id": str(uuid.uuid4()),
        "op": "create",
        "base_version": 0,
        "fields": fields,
    }


def test_a_sheet_in_a_page_is_the_sheet_as_read_with_its_search_text(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    agent = client_for("agent")
    since = newest_cursor(agent)
    sheet = create_sheet(agent, customer_factory(name="王伟", organisation="北京科技"))
    push(agent, "desk-1", [update_mutation(sheet["id"], 1, {"location": "Tromsø, 3. etg"})])

    response = agent.get("/api/v1/sync/changes", params={"since": since, "limit": 50})
    assert response.headers["content-type"] == "application/json"
    page = ChangesPage.model_validate_json(response.content)
    [change] = [c for c in page.changes if c.id == sheet["id"]]
    current = agent.get(f"/api/v1/customers/{sheet['id']}").json()
    assert change.data == current
    assert change.version == current["version"] == 2
    assert change.search == search_text(parse_customer(current))
    assert "tromsø" in (change.search or "")


def test_records_other_than_sheets_carry_no_search_text(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    agent = client_for("agent")
    since = newest_cursor(agent)
    push(agent, "desk-1", [_contact()])
    changes = all_changes_since(agent, since)
    assert [c["entity"] for c in changes] == ["contact"]
    assert "search" not in changes[0]


def test_a_pushed_batch_is_numbered_in_order_and_the_counter_kept(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    agent = client_for("agent")
    sheet = create_sheet(agent, customer_factory())
    since = newest_cursor(agent)
    batch = [
        _contact(sheet["id"]),
        _contact(str(uuid.uuid4())),  # no such customer: refused, its savepoint rolled back
        _contact(sheet["id"], channel="email"),
        update_mutation(sheet["id"], 1, {"location": "Bryggen 4"}),
        _contact(),
    ]
    statuses = [r["status"] for r in push(agent, "desk-1", batch)]
    assert statuses == ["applied", "rejected", "applied", "applied", "applied"]

    changes = all_changes_since(agent, since)
    taken = [str(m["entity_id"]) for i, m in enumerate(batch) if i != 1]
    assert [c["id"] for c in changes] == taken
    seqs = [c["seq"] for c in changes]
    assert seqs == sorted(set(seqs)) and seqs[0] > since

    # The next write, in another request, is numbered after the whole batch
    later = create_sheet(agent, customer_factory())
    [after] = all_changes_since(agent, seqs[-1])
    assert after["id"] == later["id"] and after["seq"] > seqs[-1]
    assert newest_cursor(agent) == after["seq"]
