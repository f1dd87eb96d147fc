"""Helpers for the server tests: signed-in HTTP clients per role and sync request builders."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from agentdesk.server.db import make_engine, session_factory
from agentdesk.server.telephony import add_bridge
from tests.conftest import LiveServer

Json = dict[str, Any]
ClientFor = Callable[[str], httpx.Client]


@pytest.fixture(scope="module")
def client_for(live_server: LiveServer) -> Iterator[ClientFor]:
    """A signed-in client per role, shared by the tests of one module (signing in is slow)."""
    clients: dict[str, httpx.Client] = {}

    def get(role: str) -> httpx.Client:
        if role not in clients:
            clients[role] = live_server.http(role)
        return clients[role]

    yield get
    for client in clients.values():
        client.close()


def create_sheet(http: httpx.Client, sheet: Json) -> Json:
    """POST a sheet and return the created record; fails loudly if the server refused it."""
    response = http.post("/api/v1/customers", json=sheet)
    assert response.status_code == 201, response.text
    created: Json = response.json()
    return created


def read_sheet(http: httpx.Client, customer_id: str) -> Json:
    response = http.get(f"/api/v1/customers/{customer_id}")
    assert response.status_code == 200, response.text
    record: Json = response.json()
    return record


def update_mutation(
    entity_id: str, base_version: int, fields: Json, *, mutation_id: str | None = None
) -> Json:
    return {
        "id": mutation_id or str(uuid.uuid4()),
        "entity": "customer",
        "entity_id": entity_id,
        "op": "update",
        "base_version": base_version,
        "fields": fields,
    }


def create_mutation(sheet: Json) -> Json:
    fields = {k: v for k, v in sheet.items() if k not in ("id", "version")}
    return {
        "id": str(uuid.uuid4()),
        "entity": "customer",
        "entity_id": sheet["id"],
        "op": "create",
        "base_version": 0,
        "fields": fields,
    }


def push(http: httpx.Client, device_id: str, mutations: list[Json]) -> list[Json]:
    """POST a batch to /sync/push and return the per-mutation results."""
    response = http.post("/api/v1/sync/push", json={"device_id": device_id, "mutations": mutations})
    assert response.status_code == 200, response.text
    results: list[Json] = response.json()["results"]
    return results


def changes_page(http: httpx.Client, since: int, limit: int = 500) -> Json:
    response = http.get("/api/v1/sync/changes", params={"since": since, "limit": limit})
    assert response.status_code == 200, response.text
    page: Json = response.json()
    return page


def newest_cursor(http: httpx.Client) -> int:
    """The cursor after every change the client may see so far."""
    cursor = 0
    while True:
        page = changes_page(http, cursor, limit=2000)
        cursor = page["cursor"]
        if not page["has_more"]:
            return int(cursor)


def all_changes_since(http: httpx.Client, since: int, limit: int = 500) -> list[Json]:
    changes: list[Json] = []
    cursor = since
    while True:
        page = changes_page(http, cursor, limit)
        changes.extend(page["changes"])
        cursor = page["cursor"]
        if not page["has_more"]:
            return changes


@pytest.fixture(scope="module")
def bridge_token(live_server: LiveServer) -> str:
    engine = make_engine(live_server.db_url)
    with session_factory(engine)() as session, session.begin():
        _bridge, token = add_bridge(session, f"PBX {uuid.uuid4().hex[:6]}")
    engine.dispose()
    return token


@pytest.fixture
def pbx(live_server: LiveServer, bridge_token: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {bridge_token}"}
    ) as client:
        yield client
