"""``full_sync``, ``push`` and ``save_edit_ms``: a real server on loopback and a real desk.

The server is ``agentdesk server`` in its own process on a temporary SQLite database, loaded
the way a supervisor loads it (``import_sheets``). The desk is the product's own stack: a
``LocalStore`` in a temporary directory, its ``StoreRunner`` threads, an ``ApiClient`` signed
in as a supervisor (who sees every customer) and a ``SyncEngine`` with its default settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import tempfile
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from agentdesk.demo import free_port, server_process
from agentdesk.domain.customers import parse_customer
from agentdesk.runtime import freeze_start_up
from agentdesk.server.accounts import create_user
from agentdesk.server.admin import import_sheets
from agentdesk.server.db import make_engine, migrate, session_factory
from agentdesk.store.local import LocalStore
from agentdesk.store.runner import StoreRunner
from agentdesk.sync.client import ApiClient
from agentdesk.sync.engine import SyncEngine
from benchmarks.figures import Report, Scale, latency, note, progress_every, throughput
from benchmarks.generate import ACCOUNT_MANAGERS, DEFAULT_SEED, SheetGenerator

FIGURES: Final = ("full_sync", "push", "save_edit_ms")
FULL_SYNC_MIN_PER_S: Final = 20_000.0
FULL_SYNC_MIN_RATIO: Final = 50.0
PUSH_MIN_PER_S: Final = 5_000.0
SAVE_EDIT_P95_MS: Final = 50.0
IMPORT_CHUNK: Final = 1_000
USERNAME: Final = "bench.supervisor"


@dataclass
class ServerWorld:
    db_url: str
    password: str
    customers: int
    import_seconds: float


def prepare_server(db_url: str, count: int, *, seed: int) -> ServerWorld:
    """Migrate, add a supervisor, and import ``count`` generated sheets."""
    password = secrets.token_urlsafe(18)
    engine = make_engine(db_url)
    try:
        migrate(engine)
        sessions = session_factory(engine)
        with sessions() as session, session.begin():
            create_user(
                session,
                username=USERNAME,
                password=password,
                role="supervisor",
                full_name="Benchmark Supervisor",
            )
        generator = SheetGenerator(seed)
        progress = progress_every(count // 5, "imported")
        started = time.perf_counter()
        for start in range(0, count, IMPORT_CHUNK):
            batch = generator.sheets(min(IMPORT_CHUNK, count - start), start=start)
            sheets = [parse_customer(sheet) for sheet in batch]
            with sessions() as session, session.begin():
                import_sheets(session, sheets)
            progress(start + len(sheets))
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    return ServerWorld(db_url=db_url, password=password, customers=count, import_seconds=seconds)


def edit_for(sheet: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A plausible change an agent saves on a sheet: a new phone, software, manager…"""
    kind = rng.randrange(5)
    if kind == 0:
        others = [m for m in ACCOUNT_MANAGERS if m != sheet["account_manager"]]
        return {"account_manager": rng.choice(others)}
    if kind == 1:
        numbers = {p["number"] for p in sheet["phones"]}
        office = sheet["phones"][0]["number"]
        # Only the last digits change, so the number stays valid (see generate.phone_templates).
        number = office
        while number in numbers:
            number = office[:-2] + f"{rng.randrange(100):02d}"
        return {"phones": [*sheet["phones"], {"label": "other", "number": number}]}
    if kind == 2:
        devices = [dict(d) for d in sheet["devices"]]
        devices[0]["software"] = [*devices[0]["software"], "Notepad++ 8.6"]
        return {"devices": devices}
    if kind == 3:
        return {"location": f"{sheet['location']} (desk {rng.randrange(1, 400)})"}
    return {"tier": "A" if sheet["tier"] == "B" else "B"}


def contact_for(sheet: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A contact an agent logs by hand for a customer: a call, an e-mail or a chat."""
    return {
        "channel": rng.choice(("phone", "phone", "phone", "email", "im")),
        "customer_id": sheet["id"],
        "direction": rng.choice(("in", "in", "in", "out")),
    }


async def _drain(desk: Desk) -> tuple[int, float]:
    """Push the whole outbox; (records answered, seconds). Every record must be taken."""
    started = time.perf_counter()
    sent = await desk.engine.push_all()
    seconds = time.perf_counter() - started
    counts = await desk.runner.read(desk.store.outbox_counts)
    if counts.pending or counts.conflicts or counts.rejected:
        raise AssertionError(f"the outbox is not drained after the push: {counts}")
    return sent, seconds


class Desk:
    """A signed-in desk with an empty local store."""

    def __init__(self, url: str, path: Path) -> None:
        self.store = LocalStore(path)
        self.runner = StoreRunner(self.store)
        self.client = ApiClient(url)
        self.engine = SyncEngine(self.runner, self.client)
        # As the desk application does once its main window is up.
        freeze_start_up()

    async def aclose(self) -> None:
        await self.client.aclose()
        self.runner.close()


async def _fetch_one_by_one(client: ApiClient, ids: list[str]) -> float:
    """Records per second fetching ``ids`` with one GET each."""
    started = time.perf_counter()
    for customer_id in ids:
        record = await client.request("GET", f"/api/v1/customers/{customer_id}")
        assert record["id"] == customer_id
    return len(ids) / (time.perf_counter() - started)


async def _desk_figures(
    url: str,
    world: ServerWorld,
    *,
    tmp: Path,
    scale: Scale,
    wanted: Collection[str],
    report: Report,
    seed: int,
) -> None:
    desk = Desk(url, tmp / "desk.db")
    generator = SheetGenerator(seed)
    rng = random.Random(seed + 2)
    count = world.customers
    try:
        await desk.client.login(USERNAME, world.password)
        note(f"full_sync: pulling {count:,} customers into an empty desk")
        started = time.perf_counter()
        received = await desk.engine.pull_all()
        seconds = time.perf_counter() - started
        stored = await desk.runner.read(desk.store.customer_count)
        if stored != count:
            raise AssertionError(f"the desk holds {stored} customers after the sync, not {count}")
        if "full_sync" in wanted:
            picks = [rng.randrange(count) for _ in range(scale.reference_fetches)]
            ids = [generator.sheet(i)["id"] for i in picks]
            note(f"full_sync: reference, {len(ids)} customers fetched one per request")
            reference = await _fetch_one_by_one(desk.client, ids)
            report.add(
                "full_sync",
                throughput(
                    received / seconds,
                    "customers/s",
                    minimum=FULL_SYNC_MIN_PER_S,
                    reference=reference,
                    min_ratio=FULL_SYNC_MIN_RATIO,
                    customers=received,
                    seconds=round(seconds, 2),
                    page_size=desk.engine.page_size,
                    reference_fetches=len(ids),
                    server_import_per_s=round(count / world.import_seconds, 1),
                ),
            )

        # Edits go to distinct customers, as many agents' edits of a day would.
        order = rng.sample(range(count), min(count, scale.push_edits + scale.save_edits))
        if "push" in wanted:
            user = desk.client.user
            assert user is not None
            await desk.runner.write(desk.store.set_meta, "user", user.model_dump_json())
            note(f"push: logging {scale.push_edits:,} contacts, then pushing them")
            for _ in range(scale.push_edits):
                sheet = generator.sheet(rng.randrange(count))
                await desk.runner.write(
                    desk.store.record_contact, str(uuid.uuid4()), "create", contact_for(sheet, rng)
                )
            contacts = await _drain(desk)
            targets = order[: scale.push_edits // 5]
            note(f"push: saving {len(targets):,} sheet edits, then pushing them")
            for index in targets:
                sheet = generator.sheet(index)
                await desk.runner.write(desk.store.save_edit, sheet["id"], edit_for(sheet, rng))
            sheets = await _drain(desk)
            report.add(
                "push",
                throughput(
                    contacts[0] / contacts[1],
                    "records/s",
                    minimum=PUSH_MIN_PER_S,
                    records=contacts[0],
                    seconds=round(contacts[1], 2),
                    batch=desk.engine.push_batch,
                    sheet_edits_per_s=round(sheets[0] / sheets[1], 1),
                    sheet_edits=sheets[0],
                ),
            )

        if "save_edit_ms" in wanted:
            targets = order[scale.push_edits : scale.push_edits + scale.save_edits]
            note(f"save_edit_ms: {len(targets)} edits saved one by one")
            timings = []
            for index in targets:
                sheet = generator.sheet(index)
                changes = edit_for(sheet, rng)
                started = time.perf_counter()
                await desk.runner.write(desk.store.save_edit, sheet["id"], changes)
                timings.append((time.perf_counter() - started) * 1000)
            report.add("save_edit_ms", latency(timings, p95_budget_ms=SAVE_EDIT_P95_MS))
    finally:
        await desk.aclose()


def run(scale: Scale, report: Report, wanted: Collection[str], *, seed: int = DEFAULT_SEED) -> None:
    """Prepare a server, start it, and measure the wanted figures with one desk."""
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="agentdesk-bench-sync-")))
        db_url = f"sqlite:///{tmp / 'server.db'}"
        note(f"sync: importing {scale.sync_customers:,} customers into a new server database")
        world = prepare_server(db_url, scale.sync_customers, seed=seed)
        note(f"sync: imported in {world.import_seconds:.1f} s; starting the server")
        url = stack.enter_context(server_process(db_url, free_port()))
        asyncio.run(
            _desk_figures(url, world, tmp=tmp, scale=scale, wanted=wanted, report=report, seed=seed)
        )
