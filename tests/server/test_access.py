"""Who may see and change which sheets: roles, and departments for agents."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.server.conftest import (
    ClientFor,
    Json,
    all_changes_since,
    create_sheet,
    newest_cursor,
    read_sheet,
)

SheetFactory = Callable[..., Json]


@pytest.mark.parametrize("action", ["list", "read", "create"])
def test_trainee_may_not_touch_customer_sheets(
    client_for: ClientFor, customer_factory: SheetFactory, action: str
) -> None:
    # Given
    sheet = create_sheet(client_for("agent"), customer_factory())
    trainee = client_for("trainee")

    # When
    if action == "list":
        response = trainee.get("/api/v1/customers", params={"q": sheet["name"]})
    elif action == "read":
        response = trainee.get(f"/api/v1/customers/{sheet['id']}")
    else:
        response = trainee.post("/api/v1/customers", json=customer_factory())

    # Then
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role may not do this"}


def test_trainee_pulls_no_changes(client_for: ClientFor, customer_factory: SheetFactory) -> None:
    # Given
    create_sheet(client_for("agent"), customer_factory())

    # When
    changes = all_changes_since(client_for("trainee"), 0)

    # Then
    assert changes == []


def test_agent_cannot_read_a_sheet_of_another_department(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    south = create_sheet(client_for("agent_south"), customer_factory(department="South"))

    # When
    response = client_for("agent").get(f"/api/v1/customers/{south['id']}")

    # Then
    assert response.status_code == 404


def test_agent_does_not_find_a_sheet_of_another_department(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    south = create_sheet(client_for("agent_south"), customer_factory(department="South"))

    # When
    found = client_for("agent").get("/api/v1/customers", params={"q": south["name"]}).json()

    # Then
    assert found == {"items": [], "total": 0}


def test_agent_does_not_pull_a_sheet_of_another_department(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    north = client_for("agent")
    since = newest_cursor(north)
    south = create_sheet(client_for("agent_south"), customer_factory(department="South"))

    # When
    changes = all_changes_since(north, since)

    # Then
    assert south["id"] not in {c["id"] for c in changes}


def test_agent_cannot_update_a_sheet_of_another_department(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    south = create_sheet(client_for("agent_south"), customer_factory(department="South"))

    # When
    response = client_for("agent").put(
        f"/api/v1/customers/{south['id']}", json={"version": 1, "location": "Bodø"}
    )

    # Then
    assert response.status_code == 404
    assert read_sheet(client_for("agent_south"), south["id"]) == south


def test_agent_sees_unassigned_sheets_everywhere(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    since = newest_cursor(agent)
    unassigned = create_sheet(client_for("supervisor"), customer_factory(department=""))
    assert unassigned["department"] == ""

    # When
    read = agent.get(f"/api/v1/customers/{unassigned['id']}")
    found = agent.get("/api/v1/customers", params={"q": unassigned["name"]}).json()
    pulled = all_changes_since(agent, since)

    # Then
    assert read.status_code == 200
    assert [item["id"] for item in found["items"]] == [unassigned["id"]]
    assert unassigned["id"] in {c["id"] for c in pulled}


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisor_and_admin_see_every_department(
    client_for: ClientFor, customer_factory: SheetFactory, role: str
) -> None:
    # Given
    north = create_sheet(client_for("agent"), customer_factory(organisation="Nordkapp AS"))
    south = create_sheet(
        client_for("agent_south"), customer_factory(department="South", organisation="Sørlandet")
    )
    viewer = client_for(role)

    # When
    read = [viewer.get(f"/api/v1/customers/{s['id']}").status_code for s in (north, south)]
    found = {
        item["id"]
        for s in (north, south)
        for item in viewer.get("/api/v1/customers", params={"q": s["name"]}).json()["items"]
    }
    pulled = {c["id"] for c in all_changes_since(viewer, 0)}

    # Then
    assert read == [200, 200]
    assert found == {north["id"], south["id"]}
    assert {north["id"], south["id"]} <= pulled


def test_agent_cannot_file_a_sheet_in_another_department(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    sheet = customer_factory(department="South")

    # When
    response = client_for("agent").post("/api/v1/customers", json=sheet)

    # Then
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == ["department"]
    assert client_for("supervisor").get(f"/api/v1/customers/{sheet['id']}").status_code == 404


def test_agent_cannot_move_a_sheet_to_another_department(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    sheet = create_sheet(agent, customer_factory())

    # When
    response = agent.put(
        f"/api/v1/customers/{sheet['id']}", json={"version": 1, "department": "South"}
    )

    # Then
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == ["department"]
    assert read_sheet(agent, sheet["id"]) == sheet


def test_sheet_without_department_is_filed_in_the_agents_own(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # When
    created = create_sheet(client_for("agent_south"), customer_factory(department=""))

    # Then
    assert created["department"] == "South"
    assert client_for("agent").get(f"/api/v1/customers/{created['id']}").status_code == 404


def test_unknown_department_is_refused_naming_the_field(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # When
    response = client_for("supervisor").post(
        "/api/v1/customers", json=customer_factory(department="Atlantis")
    )

    # Then
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == ["department"]
    assert "Atlantis" in response.json()["detail"][0]["msg"]
