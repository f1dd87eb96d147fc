"""A desk that writes and syncs until it is killed: the worker of the crash test.

``python -m tests.crash_writer STORE SERVER USER PASSWORD STEPS`` carries out a fixed plan of
STEPS steps (new sheets, edits of them, notes on contacts), committing each to the local
store and syncing every few steps. Killed at any moment and started again, it goes on where
it stopped: each step is recognisable in the store, so none is done twice. It prints
``ready`` once signed in and ``done`` when every step is saved and the outbox is empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import uuid
from pathlib import Path
from typing import Any

from agentdesk.store.local import LocalStore
from agentdesk.store.runner import StoreRunner
from agentdesk.sync.client import ApiClient, Offline, ServerTrouble
from agentdesk.sync.engine import Backoff, SyncEngine

NAMESPACE = uuid.UUID("6f2b0d1e-3c4a-4b5c-9d8e-7f6a5b4c3d2e")
SHEETS = 12


def sheet_id(n: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"sheet-{n}"))


def contact_id(n: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"contact-{n}"))


def plan(step: int) -> tuple[str, int, str]:
    """What step ``step`` does: (kind, which sheet or contact, the value it saves)."""
    if step < SHEETS:
        return ("create", step, f"Rom {step}")
    target = step % SHEETS
    if step % 2:
        return ("edit", target, f"Rom {target} · {step}")
    return ("note", target, f"note {step}")


def expected(steps: int) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The content last saved of every sheet, and every contact's notes, after ``steps``."""
    locations: dict[str, str] = {}
    notes: dict[str, list[str]] = {}
    for step in range(steps):
        kind, n, value = plan(step)
        if kind in ("create", "edit"):
            locations[sheet_id(n)] = value
        if kind == "create":
            notes[contact_id(n)] = []
        if kind == "note":
            notes[contact_id(n)].append(value)
    return locations, notes


def _sheet(n: int) -> dict[str, Any]:
    return {
        "id": sheet_id(n),
        "name": f"Kunde {n} Ødegård",
        "tier": "B",
        "phones": [{"label": "office", "number": f"+47 22 33 {44 + n:02d} {10 + n:02d}"}],
        "location": f"Rom {n}",
    }


def _done(store: LocalStore, step: int) -> bool:
    """Whether the store already holds what ``step`` saves (a step redone after a kill)."""
    kind, n, value = plan(step)
    if kind == "create":
        return store.contact(contact_id(n)) is not None
    if kind == "edit":
        customer = store.customer(sheet_id(n))
        return customer is not None and customer.location == value
    contact = store.contact(contact_id(n)) or {}
    return any(note.get("id") == f"n{step}" for note in contact.get("notes", []))


def _do(store: LocalStore, step: int) -> None:
    kind, n, value = plan(step)
    if kind == "create":
        if store.customer(sheet_id(n)) is None:
            store.create_customer(_sheet(n))
        store.record_contact(
            contact_id(n), "create", {"channel": "walk-in", "caller_name": f"Kunde {n}"}
        )
    elif kind == "edit":
        store.save_edit(sheet_id(n), {"location": value})
    else:
        store.record_contact(contact_id(n), "note", {"id": f"n{step}", "text": value})


async def main(store_path: str, server: str, username: str, password: str, steps: int) -> int:
    store = LocalStore(Path(store_path))
    runner = StoreRunner(store)
    client = ApiClient(server)
    user = await client.login(username, password)
    store.set_meta("user", user.model_dump_json())
    engine = SyncEngine(runner, client, backoff=Backoff(base=0.02, cap=0.1))
    print("ready", flush=True)
    step = int(store.meta("crash-next") or 0)
    while step < steps:
        if not _done(store, step):
            await runner.write(_do, store, step)
        print(f"saved {step}", flush=True)
        step += 1
        await runner.write(store.set_meta, "crash-next", str(step))
        if step % 3 == 0:
            with contextlib.suppress(Offline, ServerTrouble):
                await engine.sync_once()
    while store.outbox_counts().pending:
        await engine.sync_once()
    print("done", flush=True)
    await client.aclose()
    runner.close()
    return 0


if __name__ == "__main__":
    path, url, name, secret, count = sys.argv[1:6]
    sys.exit(asyncio.run(main(path, url, name, secret, int(count))))
