"""The server against its own OpenAPI document, with generated requests (valid ones and
broken ones): no answer is a server error, and every answer matches the schema, status code
and content type the document gives. SQLite and PostgreSQL.

This module has a server of its own: the generated sign-ins lock user names and the test
address for a while, as the throttle should.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import LiveServer
from tests.faultproxy import FIGURES

CHECKS = ",".join(
    (
        "not_a_server_error",
        "response_schema_conformance",
        "status_code_conformance",
        "content_type_conformance",
    )
)
#: Cases per operation: enough to reach every error path, few enough for CI.
EXAMPLES = int(os.environ.get("AGENTDESK_FUZZ_EXAMPLES", "40"))


def _schemathesis() -> list[str]:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert found is not None, "schemathesis is a test dependency: run `make venv`"
    return [found]


def test_generated_requests_never_get_a_server_error(
    live_server: LiveServer, tmp_path: Path
) -> None:
    token = live_server.token("supervisor")
    command = [
        *_schemathesis(),
        "run",
        f"{live_server.url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing",
        # The event stream never ends by design; its own tests cover it.
        "--exclude-path",
        "/api/v1/events",
        "--seed",
        "20261123",
        "--generation-database",
        "none",
        "--workers",
        "2",
        "--no-color",
        "--request-timeout",
        "30",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, timeout=900, check=False
    )
    summary = done.stdout[-6000:]
    assert done.returncode == 0, summary
    tested = re.search(r"Tested: (\d+)", done.stdout)
    cases = re.search(r"(\d+) generated", done.stdout)
    assert tested is not None and cases is not None, summary
    FIGURES[f"schema fuzzing ({live_server.backend})"] = (
        f"{cases.group(1)} generated requests over {tested.group(1)} operations: "
        "no server error, every answer as documented"
    )
