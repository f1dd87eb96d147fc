"""Faults injected for real between a desk's sync engine and the server, both on loopback.

The desk keeps writing (new sheets, edits of them, notes on contacts) while a proxy refuses
connections, delays, cuts answers midway, resets connections, answers 500/502/503/429 and
loses answers after the server has done the work, and while the server itself is slow,
restarted mid-request and flapping. At the end the server holds every record exactly once,
with the content last saved.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from typing import Any, cast

from agentdesk.sync.client import Offline, ServerTrouble
from tests.conftest import Account, LiveServer
from tests.faultproxy import FIGURES, FaultProxy
from tests.sync.conftest import Desk, DeskFactory

FAULTS = ("cut", "reset", "lost", "500", "502", "503", "429", "delay:0.3")
ROUNDS = 60


@dataclass
class Via:
    """The server as the desk sees it: through the proxy."""

    url: str
    accounts: dict[str, Account]


async def _sync(desk: Desk) -> str | None:
    """One sync; the fault it met, if any (the engine retries on its next round)."""
    try:
        await desk.engine.sync_once()
    except (Offline, ServerTrouble) as exc:
        return type(exc).__name__
    return None


async def test_every_record_reaches_the_server_once_whatever_the_network_does(
    sqlite_server: LiveServer, open_desk: DeskFactory, customer_factory: Any
) -> None:
    rng = random.Random(20261123)
    proxy = FaultProxy(sqlite_server.process.port)
    await proxy.start()
    desk = await open_desk(cast(LiveServer, Via(proxy.url, sqlite_server.accounts)))
    sheets: dict[str, str] = {}  # id → the location last saved
    notes: dict[str, list[str]] = {}  # contact id → notes saved, in order
    written = restarts = refusals = failed_syncs = 0
    try:
        for round_no in range(ROUNDS):
            # The agent keeps working, whatever the network does
            if round_no % 4 == 0 or not sheets:
                sheet = customer_factory(location=f"Rom {round_no}")
                await desk.create(sheet)
                sheets[str(sheet["id"])] = f"Rom {round_no}"
                contact_id = str(uuid.uuid4())
                await desk.record(
                    contact_id, "create", {"channel": "walk-in", "caller_name": f"K{round_no}"}
                )
                notes[contact_id] = []
            else:
                target = rng.choice(sorted(sheets))
                sheets[target] = f"Rom {round_no} · {rng.randint(1, 999)}"
                await desk.save_edit(target, {"location": sheets[target]})
            contact_id = rng.choice(sorted(notes))
            text = f"note {round_no}"
            await desk.record(contact_id, "note", {"id": f"n{round_no}", "text": text})
            notes[contact_id].append(text)
            written += 1
            # The network and the server misbehave
            kind = rng.random()
            if kind < 0.1:
                await proxy.refuse()
                refusals += 1
                failed_syncs += await _sync(desk) is not None
                await proxy.accept()
            elif kind < 0.15:
                # The server restarts while a (slow) request is on its way to it
                proxy.schedule("delay:0.4")
                syncing = asyncio.ensure_future(_sync(desk))
                await asyncio.sleep(0.1)
                await asyncio.to_thread(sqlite_server.process.stop)
                await asyncio.to_thread(sqlite_server.process.start)
                restarts += 1
                failed_syncs += await syncing is not None
            else:
                proxy.schedule(*(rng.choice(FAULTS) for _ in range(rng.randint(0, 3))))
                failed_syncs += await _sync(desk) is not None
        # When the network heals, the desk catches up
        for _ in range(10):
            if await _sync(desk) is None and desk.store.outbox_counts().pending == 0:
                break
        assert desk.store.outbox_counts().pending == 0
        assert desk.store.issues_for("") == []
    finally:
        await proxy.stop()
    # Then the server holds every record once, with the content last saved
    with sqlite_server.http("supervisor") as http:
        listed = http.get("/api/v1/customers", params={"limit": 500}).json()["items"]
        page = http.get("/api/v1/sync/changes", params={"since": 0, "limit": 2000}).json()
    on_server = {c["id"]: c["location"] for c in listed}
    lost = [i for i in sheets if i not in on_server]
    stale = [i for i in sheets if on_server.get(i) not in (None, sheets[i])]
    contacts = {c["id"]: c["data"] for c in page["changes"] if c["entity"] == "contact"}
    server_notes = {i: [n["text"] for n in contacts[i]["notes"]] for i in notes if i in contacts}
    lost_notes = sum(
        len([t for t in texts if t not in server_notes.get(i, [])]) for i, texts in notes.items()
    )
    # A sheet created twice would show two creations in its history (the id is the key)
    with sqlite_server.http("supervisor") as http:
        creations = {
            i: sum(
                1
                for e in http.get(f"/api/v1/customers/{i}/audit").json()
                if (e["entity"], e["op"]) == ("sheet", "create")
            )
            for i in sheets
            if i in on_server
        }
    doubled = sum(len(t) - len(set(t)) for t in server_notes.values()) + sum(
        n - 1 for n in creations.values()
    )
    injected = sum(proxy.injected.values()) + restarts
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(proxy.injected.items()))
    FIGURES["network faults"] = (
        f"{written} steps written ({len(sheets)} sheets, {len(notes)} contacts), "
        f"{injected} faults injected ({kinds}, "
        f"server restarts {restarts}), {failed_syncs} syncs failed and were retried; "
        f"lost = {len(lost) + lost_notes}, doubled = {doubled}, stale = {len(stale)}"
    )
    assert (lost, stale, lost_notes, doubled) == ([], [], 0, 0)
    assert server_notes == notes
    assert len(on_server) == len(sheets)
    assert injected >= ROUNDS // 2
