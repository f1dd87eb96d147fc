"""Liveness and the published API description."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import LiveServer


def test_healthz_answers_ok_without_signing_in(live_server: LiveServer) -> None:
    # When
    response = httpx.get(f"{live_server.url}/healthz")

    # Then
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/healthz", "get"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/refresh", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/me", "get"),
        ("/api/v1/customers", "get"),
        ("/api/v1/customers", "post"),
        ("/api/v1/customers/{customer_id}", "get"),
        ("/api/v1/customers/{customer_id}", "put"),
        ("/api/v1/sync/changes", "get"),
        ("/api/v1/sync/push", "post"),
        ("/api/v1/departments", "get"),
    ],
)
def test_openapi_lists_the_route(live_server: LiveServer, path: str, method: str) -> None:
    # When
    spec = httpx.get(f"{live_server.url}/openapi.json").json()

    # Then
    assert spec["info"]["title"] == "AgentDesk"
    assert method in spec["paths"][path]


def test_departments_are_listed_for_a_signed_in_user(live_server: LiveServer) -> None:
    # Given
    with live_server.http("agent") as http:
        # When
        response = http.get("/api/v1/departments")

    # Then
    assert response.status_code == 200
    assert [d["name"] for d in response.json()] == ["North", "South"]
