"""A visit on the engineer's laptop: everything for the day is there offline, and the work
done without a network reaches the server once, in order, when it returns."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from agentdesk.sync.client import Offline
from tests.conftest import LiveServer
from tests.server.conftest import create_sheet
from tests.server.test_visits_api import schedule, tiny_png
from tests.sync.conftest import DeskFactory

Json = dict[str, Any]


async def test_a_visit_carried_out_offline_is_synced_without_loss(
    sqlite_server: LiveServer, open_desk: DeskFactory, customer_factory: Any
) -> None:
    clients: dict[str, Any] = {}

    def client_for(role: str) -> Any:
        if role not in clients:
            clients[role] = sqlite_server.http(role)
        return clients[role]

    try:
        sheet = create_sheet(client_for("supervisor"), customer_factory(department="South"))
        visit = schedule(client_for, str(sheet["id"]))
        laptop = await open_desk(sqlite_server, "engineer", name="laptop")
        # Given the laptop synced in the office: the visit and the equipment sheet are on it
        await laptop.engine.sync_once()
        assert laptop.store.visit(visit["id"]) is not None
        assert laptop.store.customer(str(sheet["id"])) is not None
        assert [v["id"] for v in laptop.store.visits_of_engineer("engineer")] == [visit["id"]]
        # When the whole visit is done on site without a network
        await asyncio.to_thread(sqlite_server.process.stop)
        try:
            steps: list[tuple[str, Json]] = [
                ("checklist", {"parts": [{"item": "SSD", "qty": 1, "packed": True}]}),
                ("step", {"step": "arrival"}),
                ("step", {"step": "introduction"}),
                ("step", {"step": "reproduce"}),
                ("step", {"step": "explain"}),
                ("step", {"step": "consent_open", "consent_by": "Kari"}),
                ("step", {"step": "solution"}),
                (
                    "report",
                    {
                        "work_done": "Cleaned the fan; tested under load.",
                        "minutes_on_site": 40,
                        "signature": tiny_png(),
                        "signer_name": "Kari Nordmann",
                        "rating": 4,
                    },
                ),
            ]
            for op, fields in steps:
                await laptop.runner.write(laptop.store.record_visit, visit["id"], op, fields)
            # An edit to the equipment sheet made on site, through the normal versioned edit
            await laptop.save_edit(str(sheet["id"]), {"location": "Serverrom, kjeller"})
            local = laptop.store.visit(visit["id"])
            assert local is not None and local["state"] == "closed"
            assert laptop.store.outbox_counts().pending == len(steps) + 1
        finally:
            await asyncio.to_thread(sqlite_server.process.start)
        # Then, back online, everything reaches the server once
        laptop.wire.lose_next_push_answer = True
        with pytest.raises(Offline):  # the answer is lost on the way…
            await laptop.engine.sync_once()
        await laptop.engine.sync_once()  # …and the batch is sent again
        assert laptop.store.outbox_counts().pending == 0
        server = client_for("supervisor").get(f"/api/v1/visits/{visit['id']}").json()
        assert server["state"] == "closed"
        assert server["report"]["signer_name"] == "Kari Nordmann"
        assert list(server["steps"]) == [
            "arrival",
            "introduction",
            "reproduce",
            "explain",
            "consent_open",
            "solution",
        ]
        on_time = server["steps"]["arrival"]["on_time"]
        assert isinstance(on_time, bool)
        stored = client_for("supervisor").get(f"/api/v1/customers/{sheet['id']}").json()
        assert stored["location"] == "Serverrom, kjeller"
        assert dt.datetime.fromisoformat(server["report"]["closed_at"]) <= dt.datetime.now(dt.UTC)
    finally:
        for client in clients.values():
            client.close()
