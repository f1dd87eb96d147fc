"""A desk killed again and again (SIGKILL, at random moments, while it writes and syncs)
loses nothing and sends nothing twice: the server ends with every record exactly once,
with the content last saved."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from agentdesk.store.local import LocalStore
from tests.conftest import LiveServer
from tests.crash_writer import expected
from tests.faultproxy import FIGURES

KILLS = int(os.environ.get("AGENTDESK_CRASH_KILLS", "50"))
STEPS = 700


def _start(store: Path, server: LiveServer) -> subprocess.Popen[str]:
    account = server.accounts["agent"]
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "tests.crash_writer", str(store), server.url),
            *(account.username, account.password, str(STEPS)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )


def _wait_ready(proc: subprocess.Popen[str]) -> bool:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return line.strip() == "ready"


def test_a_desk_killed_fifty_times_loses_and_doubles_nothing(
    sqlite_server: LiveServer, tmp_path: Path
) -> None:
    rng = random.Random(20261123)
    store_path = tmp_path / "desk.sqlite"
    kills = 0
    saved_before_kill: list[int] = []
    while kills < KILLS:
        proc = _start(store_path, sqlite_server)
        assert proc.stdout is not None
        if not _wait_ready(proc):
            proc.communicate()
            break  # it failed to start
        # The kill comes after a random number of saved steps and a random moment more
        # (inside a step, a sync, a push): where it lands varies, how many come does not,
        # however fast or slow the machine is.
        lines = [proc.stdout.readline() for _ in range(rng.randint(1, 10))]
        time.sleep(rng.uniform(0.0, 0.04))
        if proc.poll() is not None:
            proc.communicate()
            break  # it finished every step before the kill came
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        kills += 1
        lines += out.splitlines()
        saved = [int(line.split()[1]) for line in lines if line.startswith("saved")]
        if saved:
            saved_before_kill.append(max(saved))
    # Then it runs to the end, unkilled, and syncs until nothing is left to send
    proc = _start(store_path, sqlite_server)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "done" in out, out[-500:]
    # The desk kept every step it said it saved…
    locations, notes = expected(STEPS)
    store = LocalStore(store_path)
    try:
        local = {i: store.customer(i) for i in locations}
        assert {i: c.location if c else None for i, c in local.items()} == locations
        assert store.outbox_counts().pending == 0
    finally:
        store.close()
    # …and the server holds each record once, with the content last saved
    with sqlite_server.http("agent") as http:
        sheets = http.get("/api/v1/customers", params={"limit": 500}).json()["items"]
        page = http.get("/api/v1/sync/changes", params={"since": 0, "limit": 2000}).json()
    on_server = {s["id"]: s["location"] for s in sheets}
    contacts = {c["id"]: c["data"] for c in page["changes"] if c["entity"] == "contact"}
    server_notes = {i: [n["text"] for n in contacts.get(i, {}).get("notes", [])] for i in notes}
    lost = sum(1 for i in locations if i not in on_server) + sum(
        len(set(texts) - set(server_notes[i])) for i, texts in notes.items()
    )
    doubled = (len(sheets) - len(on_server)) + sum(
        len(t) - len(set(t)) for t in server_notes.values()
    )
    FIGURES["crashes"] = (
        f"{STEPS} steps written by a desk killed {kills} times with SIGKILL "
        f"(the last step saved before a kill: {min(saved_before_kill or [0])}"
        f"–{max(saved_before_kill or [0])}); lost = {lost}, doubled = {doubled}"
    )
    assert kills >= KILLS
    assert on_server == locations
    assert server_notes == notes
    assert (lost, doubled) == (0, 0)
