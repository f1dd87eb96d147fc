"""Visits through the real server: scheduled, seen by the right people, carried out step by
step through the sync push, and closed with a signed report. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
import struct
import uuid
import zlib
from typing import Any

from tests.server.conftest import ClientFor, all_changes_since, create_sheet, newest_cursor, push
from tests.server.test_contact_records import step

Json = dict[str, Any]


def tiny_png() -> str:
    """A 1×1 PNG, as a drawn signature arrives (base64)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    raw = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    raw += chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")
    return base64.b64encode(raw).decode()


def schedule(client_for: ClientFor, customer_id: str, **changes: Any) -> Json:
    start = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    body: Json = {
        "customer_id": customer_id,
        "device": "OSL-PC114",
        "fault": "硬盘发出咔嗒声,系统很慢 — the disk clicks and the machine is slow",
        "window_start": start.isoformat(),
        "window_end": (start + dt.timedelta(hours=2)).isoformat(),
        "engineer": "engineer",
    }
    body.update(changes)
    response = client_for("supervisor").post("/api/v1/visits", json=body)
    assert response.status_code == 201, response.text
    found: Json = response.json()
    return found


def visit_step(visit_id: str, op: str, fields: Json) -> Json:
    return step(visit_id, op, fields, entity="visit")


def test_a_visit_shows_the_engineer_the_customers_sheet_and_history(
    client_for: ClientFor, customer_factory: Any
) -> None:
    # Given a South customer the North engineer cannot see
    sheet = create_sheet(client_for("supervisor"), customer_factory(department="South"))
    engineer = client_for("engineer")
    assert engineer.get(f"/api/v1/customers/{sheet['id']}").status_code == 404
    cursor = newest_cursor(engineer)
    # When a visit to them is scheduled for the engineer
    visit = schedule(client_for, sheet["id"])
    assert (visit["state"], visit["engineer"], visit["customer_name"]) == (
        "scheduled",
        "engineer",
        sheet["name"],
    )
    # Then the engineer's pull brings the visit and the equipment sheet
    changes = all_changes_since(engineer, cursor)
    assert {(c["entity"], c["id"]) for c in changes} >= {
        ("visit", visit["id"]),
        ("customer", sheet["id"]),
    }
    assert engineer.get(f"/api/v1/customers/{sheet['id']}").status_code == 200
    assert [v["id"] for v in engineer.get("/api/v1/visits?mine=true").json()].count(
        visit["id"]
    ) == 1
    # And the South department sees it; the North agent does not
    assert visit["id"] in [v["id"] for v in client_for("agent_south").get("/api/v1/visits").json()]
    assert visit["id"] not in [v["id"] for v in client_for("agent").get("/api/v1/visits").json()]


def test_scheduling_names_every_field_at_fault(
    client_for: ClientFor, customer_factory: Any
) -> None:
    sheet = create_sheet(client_for("supervisor"), customer_factory())
    response = client_for("agent").post(
        "/api/v1/visits",
        json={
            "customer_id": sheet["id"],
            "fault": "",
            "engineer": "agent.north",
            "window_start": "2026-12-01T10:00:00",
            "window_end": "2026-12-01T09:00:00+01:00",
        },
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["detail"]}
    assert fields == {"fault", "engineer", "window_start"}
    trainee = client_for("trainee").post("/api/v1/visits", json={"customer_id": sheet["id"]})
    assert trainee.status_code == 422


def test_the_engineer_works_through_the_steps_and_closes_with_a_signature(
    client_for: ClientFor, customer_factory: Any
) -> None:
    sheet = create_sheet(client_for("supervisor"), customer_factory())
    visit = schedule(client_for, sheet["id"])
    vid = visit["id"]
    engineer = client_for("engineer")

    def send(*steps: Json) -> list[Json]:
        return push(engineer, "laptop-1", list(steps))

    # The checklist, and a step out of order (opening before consent) refused by name
    results = send(
        visit_step(
            vid,
            "checklist",
            {"parts": [{"item": "SSD 512 GB", "qty": 1, "packed": True}], "form_ready": True},
        ),
        visit_step(vid, "step", {"step": "arrival"}),
        visit_step(vid, "step", {"step": "introduction"}),
        visit_step(vid, "step", {"step": "disk_operation"}),
    )
    assert [r["status"] for r in results] == ["applied", "applied", "applied", "rejected"]
    assert results[3]["errors"][0]["field"] == "step"
    # Consent, then the disk consent with the customer's signature
    results = send(
        visit_step(vid, "step", {"step": "reproduce"}),
        visit_step(vid, "step", {"step": "explain"}),
        visit_step(vid, "step", {"step": "consent_open", "consent_by": "王伟"}),
        visit_step(vid, "step", {"step": "solution"}),
        visit_step(vid, "step", {"step": "disk_consent", "consent_by": "王伟"}),
        visit_step(
            vid,
            "step",
            {"step": "disk_consent", "consent_by": "王伟", "signature": tiny_png()},
        ),
        visit_step(vid, "step", {"step": "disk_operation"}),
        visit_step(vid, "step", {"step": "backup_advice"}),
    )
    statuses = [r["status"] for r in results]
    assert statuses == ["applied"] * 4 + ["rejected"] + ["applied"] * 3, results
    assert results[4]["errors"][0]["field"] == "signature"
    # A report without a signature or a reason is refused; with the signature it closes
    report = {"work_done": "Replaced the disk; restored from backup.", "minutes_on_site": 75}
    refused = send(visit_step(vid, "report", report))
    assert refused[0]["status"] == "rejected"
    assert "why" in refused[0]["errors"][0]["message"]
    closed = send(
        visit_step(
            vid,
            "report",
            {**report, "signature": tiny_png(), "signer_name": "王伟", "rating": 5},
        )
    )
    assert closed[0]["status"] == "applied"
    final = engineer.get(f"/api/v1/visits/{vid}").json()
    assert final["state"] == "closed"
    assert final["report"]["signer_name"] == "王伟" and final["report"]["rating"] == 5
    assert final["steps"]["disk_consent"]["signature"]


def test_another_engineers_visit_cannot_be_worked_on(
    client_for: ClientFor, customer_factory: Any
) -> None:
    sheet = create_sheet(client_for("supervisor"), customer_factory())
    visit = schedule(client_for, sheet["id"])
    results = push(
        client_for("agent"), "desk-x", [visit_step(visit["id"], "step", {"step": "arrival"})]
    )
    assert results[0]["status"] == "rejected"
    assert results[0]["errors"][0]["field"] == "engineer"
    assert client_for("agent_south").get(f"/api/v1/visits/{visit['id']}").status_code == 404
    again = schedule(client_for, sheet["id"], id=visit["id"])
    assert again["id"] == visit["id"]
    assert str(uuid.UUID(again["id"])) == visit["id"]
