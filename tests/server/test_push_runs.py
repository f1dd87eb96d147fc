"""A run of new contacts in one push is logged together, with the answers each would get on
its own: refusals named, repeats answered as repeats, nothing written twice."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select

from agentdesk.server import customers
from agentdesk.server.accounts import viewer_for
from agentdesk.server.contacts import NewContacts
from agentdesk.server.db import make_engine, session_factory
from agentdesk.server.models import Contact, User
from agentdesk.wire import Mutation
from tests.conftest import LiveServer
from tests.server.conftest import (
    ClientFor,
    Json,
    all_changes_since,
    create_sheet,
    newest_cursor,
    push,
)

SheetFactory = Callable[..., Json]


def _log(contact_id: str | None = None, **fields: object) -> Json:
    return {
        "id": str(uuid.uuid4()),
        "entity": "contact",
        "entity_id": contact_id or str(uuid.uuid4()),
        "op": "create",
        "base_version": 0,
        "fields": {"channel": "phone", "caller_name": "Marco Rossi", **fields},
    }


def test_a_run_of_new_contacts_gets_the_answers_each_would_get_alone(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    agent = client_for("agent")
    with_south = client_for("agent_south")
    ours = create_sheet(agent, customer_factory())
    theirs = create_sheet(with_south, customer_factory(department="South"))
    existing = _log()
    assert [r["status"] for r in push(agent, "desk-1", [existing])] == ["applied"]
    since = newest_cursor(agent)

    twice = str(uuid.uuid4())
    run = [
        _log(customer_id=ours["id"]),
        _log(customer_id=theirs["id"]),  # another department's customer: not seen
        _log(existing["entity_id"]),  # logged before
        _log(twice),
        _log(twice),  # the same contact twice in one run
        _log(channel="pigeon"),
        _log(caller_name="Åse Løvås", direction="out"),
    ]
    results = push(agent, "desk-1", run)
    assert [r["status"] for r in results] == [
        "applied",
        "rejected",
        "rejected",
        "applied",
        "rejected",
        "rejected",
        "applied",
    ]
    assert results[1]["errors"] == [{"field": "customer_id", "message": "no such customer"}]
    assert results[2]["errors"][0]["field"] == "id"
    assert results[5]["errors"][0]["field"] == "channel"
    applied = [r for r in results if r["status"] == "applied"]
    assert results[0]["record"]["customer_id"] == ours["id"]
    assert results[0]["record"]["caller_name"] == ours["name"]
    assert all(r["version"] == 1 and r["record"]["answered_by"] for r in applied)

    changes = all_changes_since(agent, since)
    assert sorted(c["id"] for c in changes) == sorted(r["entity_id"] for r in applied)
    trail = agent.get(f"/api/v1/customers/{ours['id']}/audit").json()
    assert any(e["entity_id"] == run[0]["entity_id"] for e in trail)


def test_a_repeat_inside_a_batch_is_answered_as_a_repeat(client_for: ClientFor) -> None:
    agent = client_for("agent")
    since = newest_cursor(agent)
    first = _log()
    repeat = {**first}  # the same mutation twice in one batch
    other = _log()
    results = push(agent, "desk-1", [first, repeat, other])
    assert [r["status"] for r in results] == ["applied", "duplicate", "applied"]
    assert results[1]["record"] == results[0]["record"]
    changes = all_changes_since(agent, since)
    assert sorted(c["id"] for c in changes) == sorted([first["entity_id"], other["entity_id"]])


def test_a_run_the_database_refuses_is_carried_out_step_by_step(
    live_server: LiveServer, client_for: ClientFor
) -> None:
    agent = client_for("agent")
    taken = _log()
    assert [r["status"] for r in push(agent, "desk-1", [taken])] == ["applied"]
    run = [_log(), _log(taken["entity_id"]), _log()]
    mutations = [Mutation.model_validate(m) for m in run]

    engine = make_engine(live_server.db_url)
    try:
        with session_factory(engine)() as session:
            user = session.scalar(select(User).where(User.username == "agent.north"))
            assert user is not None
            viewer = viewer_for(user)
            # Looked up before the contact was taken (as by another desk, meanwhile)
            stale = NewContacts(customers={}, existing=set())
            assert customers._log_contacts(session, viewer, mutations, stale) is None
            session.flush()
            kept = set(
                session.scalars(
                    select(Contact.id).where(Contact.id.in_([m["entity_id"] for m in run]))
                )
            )
            assert kept == {taken["entity_id"]}  # nothing of the refused run

            results = customers.apply_batch(session, viewer, "desk-2", mutations)
            session.commit()
        assert [r.status for r in results] == ["applied", "rejected", "applied"]
        assert results[1].errors[0].field == "id"
    finally:
        engine.dispose()
