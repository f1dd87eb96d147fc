"""Published call scripts are served to desks, the newest version of each."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdesk.domain.scripts import ScriptError
from agentdesk.server.db import make_engine, session_factory
from agentdesk.server.scripts import publish
from tests.conftest import LiveServer
from tests.server.conftest import ClientFor

ENGLISH = Path(__file__).resolve().parents[2] / "scripts_library" / "en" / "call.yaml"


def test_desks_get_the_newest_version_of_each_published_script(
    live_server: LiveServer, client_for: ClientFor
) -> None:
    text = ENGLISH.read_text(encoding="utf-8")
    engine = make_engine(live_server.db_url)
    try:
        with session_factory(engine)() as session, session.begin():
            publish(session, ENGLISH, text.replace("version: 1", "version: 11"))
            publish(session, ENGLISH, text.replace("version: 1", "version: 12"))
        with session_factory(engine)() as session, session.begin(), pytest.raises(ScriptError):
            publish(session, ENGLISH, text.replace("version: 1", "version: 12"))
    finally:
        engine.dispose()

    response = client_for("agent").get("/api/v1/scripts")

    assert response.status_code == 200, response.text
    found = [s for s in response.json() if (s["id"], s["language"]) == ("call", "en")]
    assert [s["version"] for s in found] == [12]
    assert "version: 12" in found[0]["text"]
