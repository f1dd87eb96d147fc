"""Bad input gets a clear 4xx from the real server, naming what is wrong; never a 500.
SQLite and PostgreSQL (which refuses NUL characters and broken text outright)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.server.conftest import ClientFor

Json = dict[str, Any]


def _post(http: httpx.Client, path: str, body: bytes) -> httpx.Response:
    return http.post(path, content=body, headers={"Content-Type": "application/json"})


def test_an_oversized_body_is_refused_with_413(client_for: ClientFor) -> None:
    http = client_for("supervisor")
    body = b'{"name": "' + b"a" * (9 * 1024 * 1024) + b'"}'
    response = _post(http, "/api/v1/customers", body)
    assert response.status_code == 413
    assert "at most" in response.json()["detail"]

    def chunks() -> Any:  # no Content-Length: the server counts as it reads
        for _ in range(10):
            yield b"x" * (1024 * 1024)

    chunked = http.post(
        "/api/v1/customers", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code == 413


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b'{"name": ', 422, "JSON decode error"),
        (b'{"name": "\xff\xfe"}', 400, "not valid JSON in UTF-8"),
        (b"[1, 2]", 422, "valid dictionary"),
    ],
    ids=["malformed", "invalid-utf8", "not-an-object"],
)
def test_a_body_that_is_not_json_gets_a_clear_4xx(
    client_for: ClientFor, body: bytes, status: int, says: str
) -> None:
    response = _post(client_for("supervisor"), "/api/v1/customers", body)
    assert response.status_code == status
    assert says in response.text


@pytest.mark.parametrize(
    ("sheet", "field"),
    [
        ({"name": "Kari\x00Nordmann"}, "name"),
        ({"name": "Kari", "organisation": "Aker\x07"}, "organisation"),
        ({"name": "Kari \ud800"}, "name"),
        ({"name": "K" * 5000}, "name"),
    ],
    ids=["nul", "bell", "lone-surrogate", "very-long"],
)
def test_text_no_database_holds_is_refused_naming_the_field(
    client_for: ClientFor, sheet: Json, field: str
) -> None:
    body = {"tier": "B", "phones": [{"label": "office", "number": "+47 22 33 44 55"}], **sheet}
    # Sent as JSON escapes (\\ud800), as a client with broken text would send it
    response = _post(client_for("supervisor"), "/api/v1/customers", json.dumps(body).encode())
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["detail"]]


def test_sql_looking_text_is_only_text(client_for: ClientFor) -> None:
    http = client_for("supervisor")
    name = "Robert'); DROP TABLE customers;--"
    body = {"name": name, "tier": "B", "phones": [{"label": "office", "number": "+4722334466"}]}
    created = http.post("/api/v1/customers", json=body)
    assert created.status_code == 201, created.text
    found = http.get("/api/v1/customers", params={"q": "Robert'); DROP"}).json()
    assert [c["name"] for c in found["items"]] == [name]
    assert http.get("/api/v1/customers", params={"q": "%' OR '1'='1"}).json()["total"] == 0


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/customers", {"q": "a\x00b"}, "q"),
        ("/api/v1/sync/changes", {"since": str(10**30)}, "since"),
        ("/api/v1/customers", {"offset": str(10**20)}, "offset"),
        ("/api/v1/sync/changes", {"limit": "-1"}, "limit"),
    ],
    ids=["nul-in-search", "huge-cursor", "huge-offset", "negative-limit"],
)
def test_bad_query_parameters_are_refused_naming_them(
    client_for: ClientFor, path: str, params: dict[str, str], field: str
) -> None:
    response = client_for("supervisor").get(path, params=params)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert any(field in (e.get("field"), *e.get("loc", [])) for e in detail), detail


def test_a_nul_in_a_sign_in_name_is_refused_not_a_server_error(client_for: ClientFor) -> None:
    http = client_for("supervisor")
    response = http.post(
        "/api/v1/auth/login", json={"username": "boss\x00", "password": "supervisor-pass"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "username"
