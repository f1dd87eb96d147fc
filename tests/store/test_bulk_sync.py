"""The store's bulk paths: a first sync's pages and a shift's pushed contacts are stored in a
few statements, with exactly the rows the one-by-one paths would have written."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agentdesk.domain.customers import parse_customer, search_text, sheet_shape_problem
from agentdesk.store import local
from agentdesk.store.local import LocalStore
from agentdesk.wire import Change, ChangesPage, MutationResult, UserPublic
from benchmarks.generate import SheetGenerator

SheetFactory = Callable[..., dict[str, Any]]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    opened = LocalStore(tmp_path / "store.sqlite")
    yield opened
    opened.close()


def canonical(count: int, *, seed: int = 5) -> list[dict[str, Any]]:
    """Sheets as the server stores and sends them (``Customer.to_dict``) at version 1."""
    return [parse_customer(s).bump(1).to_dict() for s in SheetGenerator(seed).sheets(count)]


def page_of(records: list[dict[str, Any]], *, search: bool = True) -> ChangesPage:
    changes = [
        Change(
            seq=i + 1,
            entity="customer",
            id=r["id"],
            version=r["version"],
            data=r,
            search=search_text(parse_customer(r)) if search else None,
        )
        for i, r in enumerate(records)
    ]
    return ChangesPage(changes=changes, cursor=len(records), has_more=False, remaining=0)


def rows(store: LocalStore) -> dict[str, dict[str, Any]]:
    with store.engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT id, version, name, tier, organisation, search, data, server_data, dirty "
            "FROM customers"
        ).all()
    return {
        r.id: {
            "version": r.version,
            "name": r.name,
            "tier": r.tier,
            "organisation": r.organisation,
            "search": r.search,
            "data": json.loads(r.data),
            "server_data": json.loads(r.server_data),
            "dirty": bool(r.dirty),
        }
        for r in found
    }


# --- the shape check ------------------------------------------------------------------------


def test_every_canonical_sheet_has_the_shape_of_one() -> None:
    assert [sheet_shape_problem(s) for s in canonical(300)] == [None] * 300


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"name": 7}, "name"),
        ({"name": "  "}, "name"),
        ({"tier": "Z"}, "tier"),
        ({"phones": "22 33 44 55"}, "phones"),
        ({"phones": [{"label": "office", "number": "22 33 44 55"}]}, "phones[0]"),
        ({"devices": [{"computer_name": "pc-1"}]}, "devices[0]"),
        ({"email": None}, "email"),
    ],
)
def test_a_sheet_out_of_shape_is_named(change: dict[str, Any], named: str) -> None:
    sheet = {**canonical(1)[0], **change}
    problem = sheet_shape_problem(sheet)
    assert problem is not None and problem.startswith(named)


def test_a_device_with_a_list_of_wrong_things_is_named() -> None:
    sheet = canonical(1)[0]
    sheet["devices"] = [{**sheet["devices"][0], "ip_addresses": [10]}]
    assert sheet_shape_problem(sheet) == "devices[0].ip_addresses: expected a list of text"


# --- a first sync ---------------------------------------------------------------------------


def test_a_first_sync_stores_the_rows_the_one_by_one_path_would(
    store: LocalStore, tmp_path: Path
) -> None:
    records = canonical(200)
    touched = store.apply_changes(page_of(records))
    assert touched == {r["id"] for r in records}

    # The same page, each sheet given one at a time through the general path
    other = LocalStore(tmp_path / "other.sqlite")
    try:
        with other.engine.begin() as conn:
            for r in records:
                assert other._take_server_record(conn, r)
                other._rebuild(conn, r["id"])
        assert rows(store) == rows(other)
    finally:
        other.close()
    assert store.cursor() == 200
    assert store.customer(records[7]["id"]) == parse_customer(records[7])


def test_without_a_search_text_from_the_server_the_desk_derives_it(store: LocalStore) -> None:
    records = canonical(20)
    store.apply_changes(page_of(records, search=False))
    stored = rows(store)
    assert all(stored[r["id"]]["search"] == search_text(parse_customer(r)) for r in records)


def test_a_sheet_the_desk_edited_keeps_the_edit_on_top_of_the_pulled_version(
    store: LocalStore,
) -> None:
    records = canonical(3)
    store.apply_changes(page_of(records[:1]))
    store.save_edit(records[0]["id"], {"location": "Kontor 12"})
    newer = parse_customer(records[0]).bump(2).to_dict() | {"organisation": "Ny AS"}
    store.apply_changes(page_of([newer, *records[1:]]))
    shown = store.customer(records[0]["id"])
    assert shown is not None
    assert (shown.location, shown.organisation, shown.version) == ("Kontor 12", "Ny AS", 2)
    assert store.outbox_counts().pending == 1
    assert len(rows(store)) == 3


def test_a_sheet_not_in_the_canonical_shape_is_still_read_one_by_one(
    store: LocalStore, customer_factory: SheetFactory
) -> None:
    raw = customer_factory()  # a number as typed, not in international form
    raw["phones"] = [{"label": "office", "number": "+47 22 33 44 55"}]
    change = Change(seq=1, entity="customer", id=raw["id"], version=1, data=raw)
    store.apply_changes(ChangesPage(changes=[change], cursor=1, has_more=False, remaining=0))
    shown = store.customer(raw["id"])
    assert shown is not None and shown.phones[0].number == "+4722334455"


def test_unknown_fields_of_a_newer_server_are_left_out(store: LocalStore) -> None:
    record = {**canonical(1)[0], "mood": "cheerful"}
    store.apply_changes(page_of([record], search=False))
    assert "mood" not in rows(store)[record["id"]]["data"]


# --- pushed contacts ------------------------------------------------------------------------


def _signed_in(store: LocalStore) -> None:
    user = UserPublic(
        id=str(uuid.uuid4()),
        username="ingrid",
        full_name="Ingrid Haugen",
        role="agent",
        department="Oslo",
    )
    store.set_meta("user", user.model_dump_json())


def _server_view(view: dict[str, Any], version: int, **more: Any) -> dict[str, Any]:
    return {**view, "version": version, "speed_of_answer_s": 0.0, **more}


def _outbox(store: LocalStore) -> list[tuple[str, str, str]]:
    with store.engine.connect() as conn:
        return [
            (r.id, r.entity_id, r.op)
            for r in conn.exec_driver_sql("SELECT id, entity_id, op FROM outbox ORDER BY seq")
        ]


def test_contacts_the_server_took_whole_are_settled_together(store: LocalStore) -> None:
    _signed_in(store)
    now = dt.datetime.now(dt.UTC)
    ids = [str(uuid.uuid4()) for _ in range(30)]
    views = {
        i: store.record_contact(i, "create", {"channel": "phone", "caller_name": "Åse"}, now=now)
        for i in ids
    }
    sent = _outbox(store)
    results = [
        MutationResult(
            id=mutation_id,
            status="applied",
            entity_id=entity_id,
            version=1,
            record=_server_view(views[entity_id], 1, queue="support"),
        )
        for mutation_id, entity_id, _op in sent
    ]
    assert store.apply_push_results(results) == set(ids)
    assert _outbox(store) == []
    for i in ids:
        kept = store.contact(i)
        assert kept is not None
        assert (kept["version"], kept["queue"], kept["caller_name"]) == (1, "support", "Åse")


def test_a_contact_with_a_step_still_to_send_keeps_it_on_top(store: LocalStore) -> None:
    _signed_in(store)
    contact_id = str(uuid.uuid4())
    view = store.record_contact(contact_id, "create", {"channel": "phone", "caller_name": "Li"})
    [(create_id, _entity, _op)] = _outbox(store)
    store.record_contact(contact_id, "note", {"id": "n1", "text": "Ringer tilbake kl. 14"})
    result = MutationResult(
        id=create_id,
        status="applied",
        entity_id=contact_id,
        version=1,
        record=_server_view(view, 1),
    )
    store.apply_push_results([result])
    kept = store.contact(contact_id)
    assert kept is not None
    assert kept["version"] == 1
    assert [n["text"] for n in kept["notes"]] == ["Ringer tilbake kl. 14"]
    assert [op for _id, _entity, op in _outbox(store)] == ["note"]


def test_the_bulk_row_of_a_contact_is_the_row_the_one_by_one_path_writes(
    store: LocalStore, tmp_path: Path
) -> None:
    _signed_in(store)
    contact_id = str(uuid.uuid4())
    at = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    view = store.record_contact(
        contact_id, "create", {"channel": "im", "caller_name": "王伟"}, now=at
    )
    [(mutation_id, _entity, _op)] = _outbox(store)
    record = _server_view(view, 1, state="answered")
    store.apply_push_results(
        [
            MutationResult(
                id=mutation_id, status="applied", entity_id=contact_id, version=1, record=record
            )
        ]
    )
    with store.engine.begin() as conn:
        expected = {**local._contact_columns({**record, "version": 1}), "version": 1}
        row = conn.exec_driver_sql(
            "SELECT state, channel, tier, customer_id, owner_id, wrapped, offered_at, data, "
            "server_data, version FROM contacts WHERE id = ?",
            (contact_id,),
        ).one()
    assert json.loads(row.data) == expected["data"]
    assert json.loads(row.server_data) == {**record, "version": 1}
    assert (row.state, row.channel, row.offered_at, row.version) == (
        expected["state"],
        expected["channel"],
        expected["offered_at"],
        1,
    )
