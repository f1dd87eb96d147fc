"""Pushing mutations: each applied at most once, disjoint edits merged, overlaps reported."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable

import httpx

from tests.conftest import LiveServer
from tests.server.conftest import (
    ClientFor,
    Json,
    all_changes_since,
    create_mutation,
    create_sheet,
    newest_cursor,
    push,
    read_sheet,
    update_mutation,
)

SheetFactory = Callable[..., Json]


def _device() -> str:
    return f"desk-{uuid.uuid4().hex[:8]}"


def test_same_batch_sent_twice_is_applied_once(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    sheet = create_sheet(agent, customer_factory())
    since = newest_cursor(agent)
    batch = [update_mutation(sheet["id"], 1, {"location": "Møterom Fjord"})]
    device = _device()

    # When
    first = push(agent, device, batch)
    second = push(agent, device, batch)

    # Then
    assert [r["status"] for r in first] == ["applied"]
    assert [r["status"] for r in second] == ["duplicate"]
    assert first[0]["version"] == second[0]["version"] == 2
    assert second[0]["record"]["location"] == "Møterom Fjord"
    assert read_sheet(agent, sheet["id"])["version"] == 2
    changes = [c for c in all_changes_since(agent, since) if c["id"] == sheet["id"]]
    assert len(changes) == 1
    assert changes[0]["version"] == 2


def test_created_sheet_pushed_twice_exists_once(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    sheet = customer_factory()
    batch = [create_mutation(sheet)]
    device = _device()

    # When
    first = push(agent, device, batch)
    second = push(agent, device, batch)

    # Then
    assert [r["status"] for r in first] == ["applied"]
    assert [r["status"] for r in second] == ["duplicate"]
    found = agent.get("/api/v1/customers", params={"q": sheet["name"]}).json()
    assert found["total"] == 1
    assert read_sheet(agent, str(sheet["id"]))["version"] == 1


def test_concurrent_duplicate_pushes_apply_once(
    live_server: LiveServer, client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    sheet = create_sheet(agent, customer_factory())
    batch = [update_mutation(sheet["id"], 1, {"account_manager": "Ingrid Ødegård"})]
    device = _device()
    senders = 8
    barrier = threading.Barrier(senders)
    answers: list[tuple[int, str]] = []
    token = agent.headers["Authorization"]

    def send() -> None:
        with httpx.Client(
            base_url=live_server.url, headers={"Authorization": token}, timeout=60
        ) as http:
            barrier.wait()
            response = http.post(
                "/api/v1/sync/push", json={"device_id": device, "mutations": batch}
            )
            status = response.json()["results"][0]["status"] if response.is_success else ""
            answers.append((response.status_code, status))

    # When
    threads = [threading.Thread(target=send) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then
    assert Counter(answers) == {(200, "applied"): 1, (200, "duplicate"): senders - 1}
    assert read_sheet(agent, sheet["id"])["version"] == 2


def test_concurrent_batches_touching_the_same_sheets_all_succeed(
    live_server: LiveServer, client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given: desks push the same two sheets in opposite orders, at once
    agent = client_for("agent")
    sheets = [create_sheet(agent, customer_factory())["id"] for _ in range(2)]
    token = agent.headers["Authorization"]
    desks, rounds = 6, 4
    barrier = threading.Barrier(desks)
    statuses: list[int] = []
    applied: Counter[str] = Counter()

    def desk(number: int) -> None:
        order = sheets if number % 2 else sheets[::-1]
        device = _device()
        field = ("location", "organisation", "account_manager")[number % 3]
        with httpx.Client(
            base_url=live_server.url, headers={"Authorization": token}, timeout=60
        ) as http:
            barrier.wait()
            for n in range(rounds):
                versions = {s: http.get(f"/api/v1/customers/{s}").json()["version"] for s in order}
                batch = [update_mutation(s, versions[s], {field: f"{device} {n}"}) for s in order]
                response = http.post(
                    "/api/v1/sync/push", json={"device_id": device, "mutations": batch}
                )
                statuses.append(response.status_code)
                if response.is_success:
                    for result in response.json()["results"]:
                        if result["status"] == "applied":
                            applied[result["entity_id"]] += 1

    # When
    threads = [threading.Thread(target=desk, args=(n,)) for n in range(desks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then
    assert statuses == [200] * (desks * rounds)
    for sheet_id in sheets:
        assert read_sheet(agent, sheet_id)["version"] == 1 + applied[sheet_id]


def test_stale_edit_of_other_fields_merges(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    sheet = create_sheet(agent, customer_factory())
    other = push(agent, _device(), [update_mutation(sheet["id"], 1, {"location": "Bygg B"})])
    assert other[0]["status"] == "applied"

    # When
    results = push(agent, _device(), [update_mutation(sheet["id"], 1, {"tier": "A"})])

    # Then
    assert results[0]["status"] == "applied"
    assert results[0]["version"] == 3
    stored = read_sheet(agent, sheet["id"])
    assert (stored["location"], stored["tier"], stored["version"]) == ("Bygg B", "A", 3)


def test_stale_edit_of_the_same_field_is_a_conflict_with_the_server_record(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    engineer = client_for("engineer")
    sheet = create_sheet(agent, customer_factory())
    push(agent, _device(), [update_mutation(sheet["id"], 1, {"email": "first@example.no"})])
    current = read_sheet(agent, sheet["id"])

    # When
    results = push(
        engineer,
        _device(),
        [update_mutation(sheet["id"], 1, {"email": "second@example.no", "tier": "A"})],
    )

    # Then
    (result,) = results
    assert result["status"] == "conflict"
    assert result["conflicts"] == ["email"]
    assert result["version"] == 2
    assert result["record"] == current
    assert read_sheet(agent, sheet["id"]) == current


def test_conflicting_mutation_can_be_sent_again_after_it_was_refused(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given: a conflict is not remembered as applied
    agent = client_for("agent")
    sheet = create_sheet(agent, customer_factory())
    device = _device()
    push(agent, _device(), [update_mutation(sheet["id"], 1, {"location": "A"})])
    mutation_id = str(uuid.uuid4())
    conflict = push(
        agent, device, [update_mutation(sheet["id"], 1, {"location": "B"}, mutation_id=mutation_id)]
    )
    assert conflict[0]["status"] == "conflict"

    # When: the desk resolves it by rebasing the same mutation on the current version
    results = push(
        agent, device, [update_mutation(sheet["id"], 2, {"location": "B"}, mutation_id=mutation_id)]
    )

    # Then
    assert results[0]["status"] == "applied"
    assert read_sheet(agent, sheet["id"])["location"] == "B"


def test_two_edits_from_the_same_desk_on_the_same_version_both_apply(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    sheet = create_sheet(agent, customer_factory())
    device = _device()

    # When
    results = push(
        agent,
        device,
        [
            update_mutation(sheet["id"], 1, {"location": "Første etasje"}),
            update_mutation(sheet["id"], 1, {"location": "Andre etasje", "tier": "A"}),
        ],
    )

    # Then
    assert [r["status"] for r in results] == ["applied", "applied"]
    stored = read_sheet(agent, sheet["id"])
    assert (stored["location"], stored["tier"], stored["version"]) == ("Andre etasje", "A", 3)


def test_invalid_mutation_is_rejected_and_the_rest_of_the_batch_applies(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    first = create_sheet(agent, customer_factory())
    second = create_sheet(agent, customer_factory())
    new_sheet = customer_factory()
    batch = [
        update_mutation(first["id"], 1, {"location": "Gyldig"}),
        update_mutation(
            second["id"],
            1,
            {
                "tier": "C",
                "phones": [{"label": "office", "number": "+86 6552 9988"}],
                "devices": [{"computer_name": "X", "ip_addresses": ["999.1.1.1"]}],
            },
        ),
        create_mutation(new_sheet),
    ]

    # When
    results = push(agent, _device(), batch)

    # Then
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert {e["field"] for e in results[1]["errors"]} == {
        "tier",
        "phones[0].number",
        "devices[0].ip_addresses[0]",
    }
    assert all(e["message"] for e in results[1]["errors"])
    assert read_sheet(agent, first["id"])["location"] == "Gyldig"
    assert read_sheet(agent, second["id"]) == second
    assert read_sheet(agent, str(new_sheet["id"]))["version"] == 1


def test_mutation_of_an_unknown_field_is_rejected_naming_it(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    sheet = create_sheet(agent, customer_factory())

    # When
    results = push(agent, _device(), [update_mutation(sheet["id"], 1, {"shoe_size": "44"})])

    # Then
    assert results[0]["status"] == "rejected"
    assert [e["field"] for e in results[0]["errors"]] == ["shoe_size"]
    assert read_sheet(agent, sheet["id"]) == sheet


def test_trainee_mutation_is_rejected(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    sheet = create_sheet(client_for("agent"), customer_factory())

    # When
    results = push(
        client_for("trainee"), _device(), [update_mutation(sheet["id"], 1, {"tier": "A"})]
    )

    # Then
    assert results[0]["status"] == "rejected"
    assert read_sheet(client_for("agent"), sheet["id"]) == sheet


def test_mutation_of_a_sheet_in_another_department_is_rejected(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    south = create_sheet(client_for("agent_south"), customer_factory(department="South"))

    # When
    results = push(client_for("agent"), _device(), [update_mutation(south["id"], 1, {"tier": "A"})])

    # Then
    assert results[0]["status"] == "rejected"
    assert read_sheet(client_for("agent_south"), south["id"]) == south
