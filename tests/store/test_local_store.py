"""The desk's local store on a real SQLite file: written first, synced later, never lost."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError

from agentdesk.domain.customers import Customer, parse_customer
from agentdesk.domain.errors import ValidationFailed
from agentdesk.store.local import SCHEMA_VERSION, LocalStore, OutboxCounts, StoreError
from agentdesk.wire import (
    Change,
    ChangesPage,
    FieldErrorOut,
    Mutation,
    MutationResult,
    MutationStatus,
)
from tests.conftest import ROOT

SheetFactory = Callable[..., dict[str, Any]]


# --- helpers ------------------------------------------------------------------------------


def sql(path: Path, statement: str) -> list[tuple[Any, ...]]:
    """Run one statement on the store's file with plain sqlite3, as another program would."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(statement).fetchall()
        conn.commit()
        return rows


def server_record(data: dict[str, Any], version: int, **changes: Any) -> dict[str, Any]:
    """A sheet as the server sends it: normalised, at ``version``, with ``changes``."""
    return parse_customer({**data, **changes}).bump(version).to_dict()


def page(*records: dict[str, Any], cursor: int) -> ChangesPage:
    """One page of server changes, the last of them at sequence ``cursor``."""
    changes = [
        Change(
            seq=cursor - len(records) + i + 1,
            entity="customer",
            id=r["id"],
            version=r["version"],
            data=r,
        )
        for i, r in enumerate(records)
    ]
    return ChangesPage(changes=changes, cursor=cursor, has_more=False, remaining=0)


def answer(
    mutation: Mutation,
    status: MutationStatus,
    record: dict[str, Any] | None = None,
    conflicts: list[str] | None = None,
    errors: list[FieldErrorOut] | None = None,
) -> MutationResult:
    """The server's answer to one pushed mutation."""
    return MutationResult(
        id=str(mutation.id),
        status=status,
        entity_id=str(mutation.entity_id),
        version=record["version"] if record else None,
        record=record,
        conflicts=conflicts or [],
        errors=errors or [],
    )


def shown(store: LocalStore, customer_id: str) -> Customer:
    """The sheet as the agent sees it, which must exist."""
    sheet = store.customer(customer_id)
    assert sheet is not None, f"no sheet {customer_id}"
    return sheet


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "desk" / "store.sqlite"


@pytest.fixture
def store(store_path: Path) -> Iterator[LocalStore]:
    opened = LocalStore(store_path)
    yield opened
    opened.close()


@pytest.fixture
def synced(store: LocalStore, customer_factory: SheetFactory) -> dict[str, Any]:
    """A sheet the server sent at version 1 (the raw data it was made from)."""
    data = customer_factory(name="Kari Nordmann", organisation="Oslo kommune")
    store.apply_changes(page(server_record(data, 1), cursor=1))
    return data


# --- the file -----------------------------------------------------------------------------


def test_store_runs_in_wal_mode(store: LocalStore, store_path: Path) -> None:
    # Given a store opened on a new file
    # When another program asks the file for its journal mode
    [(mode,)] = sql(store_path, "PRAGMA journal_mode")

    # Then it is write-ahead logging, persisted in the file
    assert mode == "wal"
    assert store.schema_version() == SCHEMA_VERSION


def test_store_written_by_a_newer_agentdesk_is_refused(store_path: Path) -> None:
    # Given a store file whose schema is newer than this program knows
    LocalStore(store_path).close()
    sql(store_path, f"UPDATE meta SET value = '{SCHEMA_VERSION + 1}' WHERE key = 'schema_version'")

    # When it is opened
    with pytest.raises(StoreError) as caught:
        LocalStore(store_path)

    # Then it is refused, naming both schema versions
    assert f"schema {SCHEMA_VERSION + 1}" in str(caught.value)
    assert f"schema {SCHEMA_VERSION} at most" in str(caught.value)


def test_store_keeps_its_device_id_across_openings(store_path: Path) -> None:
    # Given a store opened once
    first = LocalStore(store_path)
    device = first.device_id
    first.close()

    # When it is opened again
    second = LocalStore(store_path)

    # Then it is the same device
    assert uuid.UUID(device)
    assert second.device_id == device
    second.close()


# --- writing: record and outbox together --------------------------------------------------

CRASHING_DESK = """
import json, os, signal, sys
from agentdesk.store.local import LocalStore

store = LocalStore(sys.argv[1])
sheet = store.create_customer(json.loads(sys.argv[2]))
store.save_edit(sheet.id, {"organisation": "Bergen kommune"})
print(sheet.id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no close, no clean exit: the desk crashes
"""


def test_saved_sheet_and_its_outbox_rows_survive_a_crash(
    store_path: Path, customer_factory: SheetFactory
) -> None:
    # Given a desk process that creates a sheet, edits it, and is killed at once
    data = customer_factory(name="Bjørn Ødegård", organisation="Oslo kommune")
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_DESK, str(store_path), json.dumps(data)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert crashed.returncode == -9, crashed.stderr

    # When the store is opened again by a new desk
    store = LocalStore(store_path)

    # Then the sheet is there as saved, and both changes are queued for the server in order
    sheet = shown(store, crashed.stdout.strip())
    assert (sheet.name, sheet.organisation) == ("Bjørn Ødegård", "Bergen kommune")
    mutations = store.pending_mutations(10)
    assert [(m.op, m.base_version) for m in mutations] == [("create", 0), ("update", 0)]
    assert mutations[0].fields["name"] == "Bjørn Ødegård"
    assert mutations[1].fields == {"organisation": "Bergen kommune"}
    store.close()


def test_sheet_is_not_saved_when_its_outbox_row_cannot_be(
    store: LocalStore, store_path: Path, customer_factory: SheetFactory
) -> None:
    # Given a store whose outbox refuses new rows (as a full disk would)
    sql(
        store_path,
        "CREATE TRIGGER outbox_full BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'full'); END",
    )

    # When a new sheet is created
    with pytest.raises(DBAPIError):
        store.create_customer(customer_factory())

    # Then the sheet was not saved either: record and outbox row are one transaction
    assert store.customer_count() == 0


def test_edit_is_not_saved_when_its_outbox_row_cannot_be(
    store: LocalStore, store_path: Path, synced: dict[str, Any]
) -> None:
    # Given a synced sheet and an outbox that refuses new rows
    sql(
        store_path,
        "CREATE TRIGGER outbox_full BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'full'); END",
    )

    # When the sheet is edited
    with pytest.raises(DBAPIError):
        store.save_edit(synced["id"], {"organisation": "Bergen kommune"})

    # Then the sheet still shows the old value
    sheet = shown(store, synced["id"])
    assert sheet.organisation == "Oslo kommune"


def test_created_sheet_is_queued_as_a_create(
    store: LocalStore, customer_factory: SheetFactory
) -> None:
    # Given a new sheet typed loosely
    data = customer_factory(tier="a", phones=["0047 22 33 44 55"])

    # When it is created
    sheet = store.create_customer(data)

    # Then the normalised sheet is stored and queued whole
    assert store.customer(sheet.id) == sheet
    [mutation] = store.pending_mutations(10)
    assert (mutation.op, str(mutation.entity_id), mutation.base_version) == ("create", sheet.id, 0)
    assert mutation.fields == sheet.sheet_values()
    assert mutation.fields["tier"] == "A"
    assert store.outbox_counts() == OutboxCounts(pending=1, conflicts=0, rejected=0)


def test_invalid_edit_names_the_field_and_writes_nothing(
    store: LocalStore, synced: dict[str, Any]
) -> None:
    # Given a synced sheet with nothing queued
    before = store.customer(synced["id"])

    # When an edit with a bad address on the first computer is saved
    devices = [{**synced["devices"][0], "ip_addresses": ["10.1.2.3", "10.1.2.300"]}]
    with pytest.raises(ValidationFailed) as caught:
        store.save_edit(synced["id"], {"devices": devices, "organisation": "Bergen kommune"})

    # Then the field is named, the sheet is unchanged and nothing is queued
    assert list(caught.value.by_field()) == ["devices[0].ip_addresses[1]"]
    assert store.customer(synced["id"]) == before
    assert store.pending_mutations(10) == []


def test_edit_that_changes_nothing_queues_nothing(
    store: LocalStore, synced: dict[str, Any]
) -> None:
    # Given a synced sheet
    # When the agent saves the same values, typed differently
    sheet = store.save_edit(
        synced["id"],
        {"name": "  Kari   Nordmann ", "phones": [{"number": "+47 22 33 44 55"}], "tier": "b"},
    )

    # Then the sheet is returned as it was and nothing is queued
    assert sheet == store.customer(synced["id"])
    assert store.pending_mutations(10) == []


def test_edit_is_queued_with_only_the_changed_fields_and_its_base_version(
    store: LocalStore, synced: dict[str, Any]
) -> None:
    # Given a sheet the server sent at version 1
    # When two of its fields are edited, one of them to the value it already has
    saved = store.save_edit(synced["id"], {"organisation": "Bergen kommune", "tier": "B"})

    # Then the returned sheet is what is stored, and only the change is queued
    assert saved == store.customer(synced["id"])
    assert saved.organisation == "Bergen kommune"
    [mutation] = store.pending_mutations(10)
    assert (mutation.op, mutation.base_version, mutation.fields) == (
        "update",
        1,
        {"organisation": "Bergen kommune"},
    )


def test_edit_of_an_unknown_sheet_raises_key_error(store: LocalStore) -> None:
    # Given an empty store
    # When a sheet it does not have is edited
    # Then it says so
    with pytest.raises(KeyError):
        store.save_edit(str(uuid.uuid4()), {"name": "Ola"})


# --- search -------------------------------------------------------------------------------


@pytest.fixture
def searchable(store: LocalStore, customer_factory: SheetFactory) -> dict[str, str]:
    """Four sheets in the store; name → id."""
    sheets = {
        "Bjørn Ødegård": customer_factory(
            name="Bjørn Ødegård",
            email="bjorn.odegard@akersykehus.no",
            organisation="Aker Sentralsykehus HF",
            phones=[{"label": "office", "number": "+47 22 89 41 17"}],
            devices=[
                {
                    "computer_name": "ASH-INN-PC114",
                    "ip_addresses": ["10.44.18.114", "fd44:a5c2:1e07:18::114"],
                }
            ],
        ),
        "王伟": customer_factory(
            name="王伟",
            email="wang.wei@huaxin-logistics.cn",
            organisation="华信物流有限公司",
            phones=[{"label": "office", "number": "+86 10 6552 9988"}],
            devices=[{"computer_name": "HX-PEK-FIN-01", "ip_addresses": ["10.20.1.15"]}],
        ),
        "Анна Кузнецова": customer_factory(
            name="Анна Кузнецова",
            email="a.kuznetsova@example.ru",
            organisation="ООО Северсталь",
            phones=[{"label": "mobile", "number": "+7 916 123-45-67"}],
            devices=[{"computer_name": "MSK-ACC-07", "ip_addresses": ["192.168.10.7"]}],
        ),
        "Bjarne Berg": customer_factory(
            name="Bjarne Berg",
            email="bjarne@example.no",
            organisation="Berg & Sønn AS",
            phones=[],
            devices=[],
        ),
    }
    ids = {name: store.create_customer(data).id for name, data in sheets.items()}
    return ids


def names_found(store: LocalStore, query: str) -> list[str]:
    return [summary.name for summary in store.search(query)]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("Bj", ["Bjarne Berg", "Bjørn Ødegård"]),
        ("bjø", ["Bjørn Ødegård"]),
        ("ØDEGÅRD", ["Bjørn Ødegård"]),
        ("王", ["王伟"]),
        ("кузнец", ["Анна Кузнецова"]),
        ("22 89 41", ["Bjørn Ødegård"]),
        ("+47 22894117", ["Bjørn Ødegård"]),
        ("0086 10 6552", ["王伟"]),
        ("916 123 45", ["Анна Кузнецова"]),
        ("huaxin-logistics", ["王伟"]),
        ("BJARNE@EXAMPLE.NO", ["Bjarne Berg"]),
        ("sentralsykehus", ["Bjørn Ødegård"]),
        ("华信物流", ["王伟"]),
        ("msk-acc", ["Анна Кузнецова"]),
        ("HX-PEK", ["王伟"]),
        ("10.20.1.15", ["王伟"]),
        ("fd44:a5c2:1e07:18::114", ["Bjørn Ødegård"]),
        ("bjørn aker", ["Bjørn Ødegård"]),
        ("bjørn huaxin", []),
    ],
)
def test_search_finds_sheets_by_any_searchable_value(
    store: LocalStore, searchable: dict[str, str], query: str, names: list[str]
) -> None:
    # Given sheets in the store
    # When the agent types a query
    # Then the matching sheets come back in name order
    assert names_found(store, query) == names


@pytest.mark.parametrize("query", ["%", "_", "\\"])
def test_search_treats_like_wildcards_as_text(
    store: LocalStore, searchable: dict[str, str], query: str
) -> None:
    # Given sheets none of whose values contain SQL LIKE wildcards
    # When a wildcard is searched
    # Then it matches nothing, instead of everything
    assert names_found(store, query) == []


def test_search_finds_a_literal_ampersand_and_lists_everything_for_no_query(
    store: LocalStore, searchable: dict[str, str]
) -> None:
    # Given the sheets
    # When an organisation with punctuation is searched, and then nothing at all
    # Then the one sheet, and then every sheet, are found
    assert names_found(store, "berg & sønn") == ["Bjarne Berg"]
    assert len(store.search("")) == 4


def test_search_summary_shows_phone_and_computers(
    store: LocalStore, searchable: dict[str, str]
) -> None:
    # Given the sheets
    # When one is found
    [summary] = store.search("ASH-INN")

    # Then its summary has what an agent needs to recognise the customer
    assert summary.id == searchable["Bjørn Ødegård"]
    assert summary.phone == "+47 22 89 41 17"
    assert summary.computers == "ASH-INN-PC114"
    assert summary.email == "bjorn.odegard@akersykehus.no"


# --- pulling changes ----------------------------------------------------------------------


def test_pulled_page_is_stored_with_its_cursor(
    store: LocalStore, customer_factory: SheetFactory
) -> None:
    # Given two sheets the server changed
    first, second = customer_factory(), customer_factory()

    # When their page of changes is applied
    touched = store.apply_changes(
        page(server_record(first, 1), server_record(second, 3), cursor=17)
    )

    # Then both sheets are stored at the server's versions and the cursor is saved
    assert touched == {first["id"], second["id"]}
    assert store.cursor() == 17
    assert [shown(store, d["id"]).version for d in (first, second)] == [1, 3]
    assert store.pending_mutations(10) == []


def test_a_kind_of_record_this_desk_does_not_know_is_skipped(
    store: LocalStore, customer_factory: SheetFactory
) -> None:
    # Given a page from a newer server: a sheet and a record of a kind added later
    sheet = server_record(customer_factory(), 1)
    newer = page(sheet, cursor=9)
    newer.changes.insert(
        0, Change(seq=8, entity="survey", id="s-1", version=1, data={"question": "?"})
    )
    # When it is applied, the sheet is kept, the unknown record skipped, the cursor saved
    assert store.apply_changes(newer) == {sheet["id"]}
    assert store.customer_count() == 1
    assert store.cursor() == 9


def test_older_version_of_a_sheet_is_skipped(store: LocalStore, synced: dict[str, Any]) -> None:
    # Given a sheet at version 3
    store.apply_changes(page(server_record(synced, 3, organisation="Bergen kommune"), cursor=5))

    # When a page brings version 2 of it
    touched = store.apply_changes(
        page(server_record(synced, 2, organisation="Trondheim kommune"), cursor=6)
    )

    # Then version 3 stays, yet the cursor moves on
    sheet = shown(store, synced["id"])
    assert (sheet.version, sheet.organisation) == (3, "Bergen kommune")
    assert touched == set()
    assert store.cursor() == 6


def test_an_invalid_sheet_in_a_page_is_skipped_and_the_rest_kept(
    store: LocalStore, synced: dict[str, Any], customer_factory: SheetFactory
) -> None:
    # Given a page whose first change is fine and whose second is not a valid sheet
    good = server_record(synced, 2, organisation="Bergen kommune")
    broken = {**server_record(customer_factory(), 1), "tier": "Z"}

    # When it is applied
    store.apply_changes(page(good, broken, cursor=9))

    # Then the good change and the cursor are kept; the broken one is skipped and noted
    assert store.cursor() == 9
    sheet = shown(store, synced["id"])
    assert (sheet.version, sheet.organisation) == (2, "Bergen kommune")
    assert store.customer_count() == 1
    [skipped] = store.unreadable_changes()
    assert skipped["id"] == broken["id"] and "tier" in skipped["problem"]


def test_pending_edit_stays_on_top_of_a_newer_server_version(
    store: LocalStore, synced: dict[str, Any]
) -> None:
    # Given an edit of the organisation not yet pushed
    store.save_edit(synced["id"], {"organisation": "Bergen kommune"})

    # When the server sends version 2 in which someone else changed the e-mail
    store.apply_changes(page(server_record(synced, 2, email="kari@bergen.no"), cursor=2))

    # Then the agent sees the server's e-mail with their own organisation on top
    sheet = shown(store, synced["id"])
    assert (sheet.version, sheet.email, sheet.organisation) == (
        2,
        "kari@bergen.no",
        "Bergen kommune",
    )
    [mutation] = store.pending_mutations(10)
    assert mutation.fields == {"organisation": "Bergen kommune"}
    assert store.search("bergen kommune")[0].id == synced["id"]


# --- push results -------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["applied", "duplicate"])
def test_applied_or_duplicate_edit_leaves_the_outbox(
    store: LocalStore, synced: dict[str, Any], status: str
) -> None:
    # Given an edit that was pushed
    store.save_edit(synced["id"], {"organisation": "Bergen kommune"})
    [mutation] = store.pending_mutations(10)

    # When the server answers it took it (now or earlier), as version 2
    touched = store.apply_push_results(
        [answer(mutation, status, server_record(synced, 2, organisation="Bergen kommune"))]
    )

    # Then the outbox is empty and the sheet is the server's version 2
    assert touched == {synced["id"]}
    assert store.outbox_counts() == OutboxCounts(pending=0, conflicts=0, rejected=0)
    assert store.pending_mutations(10) == []
    sheet = shown(store, synced["id"])
    assert (sheet.version, sheet.organisation) == (2, "Bergen kommune")


def test_applied_create_takes_the_server_version_and_keeps_later_edits(
    store: LocalStore, customer_factory: SheetFactory
) -> None:
    # Given a new sheet and a later edit of it, both queued
    data = customer_factory(organisation="Oslo kommune")
    sheet = store.create_customer(data)
    store.save_edit(sheet.id, {"organisation": "Bergen kommune"})
    create, _edit = store.pending_mutations(10)

    # When the server answers the create with version 1
    store.apply_push_results([answer(create, "applied", server_record(data, 1))])

    # Then the sheet is at version 1 with the edit still shown and still queued
    seen = shown(store, sheet.id)
    assert (seen.version, seen.organisation) == (1, "Bergen kommune")
    [left] = store.pending_mutations(10)
    assert left.fields == {"organisation": "Bergen kommune"}


@pytest.fixture
def conflicted(store: LocalStore, synced: dict[str, Any]) -> tuple[Mutation, dict[str, Any]]:
    """An organisation edit the server answered with a conflict (it holds version 2)."""
    store.save_edit(synced["id"], {"organisation": "Bergen kommune"})
    [mutation] = store.pending_mutations(10)
    theirs = server_record(synced, 2, organisation="Stavanger kommune")
    store.apply_push_results([answer(mutation, "conflict", theirs, conflicts=["organisation"])])
    return mutation, theirs


def test_conflict_keeps_the_edit_and_shows_it_with_the_server_value(
    store: LocalStore, synced: dict[str, Any], conflicted: tuple[Mutation, dict[str, Any]]
) -> None:
    # Given an edit the server answered with a conflict
    mutation, theirs = conflicted

    # When the agent's sheet is looked at
    [issue] = store.issues_for(synced["id"])

    # Then the conflict is listed with both values, and counted
    assert (issue.mutation_id, issue.state) == (str(mutation.id), "conflict")
    assert issue.fields == {"organisation": "Bergen kommune"}
    assert issue.server_record == theirs
    assert issue.conflicting_fields == ("organisation",)
    assert store.outbox_counts() == OutboxCounts(pending=0, conflicts=1, rejected=0)
    sheet = shown(store, synced["id"])
    assert (sheet.version, sheet.organisation) == (2, "Bergen kommune")


def test_conflict_holds_back_later_edits_of_that_sheet_only(
    store: LocalStore,
    synced: dict[str, Any],
    conflicted: tuple[Mutation, dict[str, Any]],
    customer_factory: SheetFactory,
) -> None:
    # Given a conflicted sheet and another sheet
    other = store.create_customer(customer_factory())

    # When the conflicted sheet is edited again
    store.save_edit(synced["id"], {"email": "kari@bergen.no"})

    # Then that edit is saved but not pushed; the other sheet's create still is
    assert [str(m.entity_id) for m in store.pending_mutations(10)] == [other.id]
    assert store.outbox_counts() == OutboxCounts(pending=2, conflicts=1, rejected=0)
    sheet = shown(store, synced["id"])
    assert sheet.email == "kari@bergen.no"


def test_rejected_edit_is_kept_with_the_server_reasons(
    store: LocalStore, synced: dict[str, Any]
) -> None:
    # Given an edit of the department the server refuses
    store.save_edit(synced["id"], {"department": "South"})
    [mutation] = store.pending_mutations(10)

    # When the server answers it was rejected
    store.apply_push_results(
        [
            answer(
                mutation,
                "rejected",
                errors=[FieldErrorOut(field="department", message="not your department")],
            )
        ]
    )

    # Then it is listed with the reason, counted, and holds the sheet's later edits back
    [issue] = store.issues_for(synced["id"])
    assert (issue.state, issue.errors) == ("rejected", (("department", "not your department"),))
    assert store.outbox_counts() == OutboxCounts(pending=0, conflicts=0, rejected=1)
    store.save_edit(synced["id"], {"organisation": "Bergen kommune"})
    assert store.pending_mutations(10) == []


def test_resolving_by_keeping_mine_sends_it_again_on_the_server_version(
    store: LocalStore, synced: dict[str, Any], conflicted: tuple[Mutation, dict[str, Any]]
) -> None:
    # Given a conflict over the organisation
    mutation, _ = conflicted

    # When the agent keeps their value
    store.resolve(str(mutation.id), keep_mine=True)

    # Then it is queued again on top of version 2, and the conflict is gone
    [again] = store.pending_mutations(10)
    assert (again.op, again.base_version, again.fields) == (
        "update",
        2,
        {"organisation": "Bergen kommune"},
    )
    assert again.id != mutation.id
    assert store.issues_for(synced["id"]) == []
    sheet = shown(store, synced["id"])
    assert sheet.organisation == "Bergen kommune"


def test_resolving_by_taking_theirs_shows_the_server_version(
    store: LocalStore, synced: dict[str, Any], conflicted: tuple[Mutation, dict[str, Any]]
) -> None:
    # Given a conflict over the organisation
    mutation, theirs = conflicted

    # When the agent takes the server's value
    store.resolve(str(mutation.id), keep_mine=False)

    # Then nothing is queued and the sheet is the server's version 2
    assert store.pending_mutations(10) == []
    assert store.outbox_counts() == OutboxCounts(pending=0, conflicts=0, rejected=0)
    assert store.customer(synced["id"]) == parse_customer(theirs)


def test_keeping_mine_does_not_put_an_older_edit_after_a_newer_one(
    store: LocalStore, synced: dict[str, Any], conflicted: tuple[Mutation, dict[str, Any]]
) -> None:
    # Given a conflict over the organisation, and a later edit of it to another value
    mutation, _ = conflicted
    store.save_edit(synced["id"], {"organisation": "Tromsø kommune"})

    # When the agent keeps their conflicted value
    store.resolve(str(mutation.id), keep_mine=True)

    # Then the later value still wins, on screen and in the order edits are pushed
    sheet = shown(store, synced["id"])
    assert sheet.organisation == "Tromsø kommune"
    assert [m.fields["organisation"] for m in store.pending_mutations(10)] == [
        "Bergen kommune",
        "Tromsø kommune",
    ]


def test_discarding_a_rejected_create_removes_the_sheet_the_server_never_had(
    store: LocalStore, customer_factory: SheetFactory
) -> None:
    # Given a new sheet whose create the server rejected
    sheet = store.create_customer(customer_factory(name="Ola Spøkelse", department="South"))
    [create] = store.pending_mutations(10)
    store.apply_push_results(
        [
            answer(
                create,
                "rejected",
                errors=[FieldErrorOut(field="department", message="not your department")],
            )
        ]
    )

    # When the agent discards it, taking the server's side (where there is no such sheet)
    store.resolve(str(create.id), keep_mine=False)

    # Then the sheet is gone, instead of staying on the desk unsynced and unflagged forever
    assert store.customer(sheet.id) is None
    assert names_found(store, "spøkelse") == []


def test_a_store_of_the_first_schema_is_upgraded_and_pulls_everything_again(
    tmp_path: Path,
) -> None:
    # Given a store written by the first schema, with a saved cursor
    store_path = tmp_path / "old.sqlite"
    LocalStore(store_path).close()
    sql(store_path, "UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    sql(store_path, "INSERT INTO meta (key, value) VALUES ('cursor', '500')")
    # When this version opens it
    store = LocalStore(store_path)
    # Then it is at the new schema, and the cursor starts over so contacts are pulled
    assert store.schema_version() == SCHEMA_VERSION
    assert store.cursor() == 0
    assert store.contacts_in_state("ringing") == []
    store.close()
