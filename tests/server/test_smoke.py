from __future__ import annotations

from tests.conftest import LiveServer


def test_health_and_login(live_server: LiveServer) -> None:
    with live_server.http("agent") as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/api/v1/auth/me").json()["username"] == "agent.north"
