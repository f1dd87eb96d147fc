"""An engineer's visit on the desk: from the preparation checklist to the signed report and
its PDF, against the real server."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from agentdesk.credentials import TokenVault
from tests.conftest import LiveServer
from tests.ui.conftest import add_customers, until
from tests.ui.test_desk import _window
from ui.main_window import MainWindow
from ui.qt import QtCore

Run = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture(autouse=True)
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDESK_SOUND", "off")


def _sign(window: MainWindow, pad: Any) -> None:
    pad.begin(QtCore.QPointF(30, 100))
    for x in range(30, 300, 12):
        pad.extend(QtCore.QPointF(x, 100 - (x % 48)))
    pad.finish()


def _image_count(path: Path) -> int:
    """How many pictures the PDF's pages draw (read from the page resources)."""
    count = 0
    for page in PdfReader(str(path)).pages:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        if xobjects is None:
            continue
        for ref in xobjects.get_object().values():
            if ref.get_object().get("/Subtype") == "/Image":
                count += 1
    return count


def _text(path: Path) -> str:
    """What a reader extracts from the PDF, without the spacing the fonts put in."""
    reader = PdfReader(str(path))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def test_a_visit_from_checklist_to_signed_report_and_pdf(
    sqlite_server: LiveServer,
    vault: TokenVault,
    run: Run,
    customer_factory: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    sheet = customer_factory(
        name="王伟",
        organisation="华信物流有限公司",
        language="zh_CN",
        timezone="Asia/Shanghai",
        phones=[{"label": "office", "number": "+86 10 6552 9988"}],
    )
    add_customers(sqlite_server, [sheet])
    start = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    with sqlite_server.http("supervisor") as http:
        response = http.post(
            "/api/v1/visits",
            json={
                "customer_id": sheet["id"],
                "device": sheet["devices"][0]["computer_name"],
                "fault": "硬盘有异响,开机很慢",
                "window_start": start.isoformat(),
                "window_end": (start + dt.timedelta(hours=2)).isoformat(),
                "engineer": "engineer",
            },
        )
        assert response.status_code == 201, response.text
        visit_id = response.json()["id"]

    async def scenario() -> None:
        window = await _window(sqlite_server, vault, "engineer")
        visits = window.visits
        # Given the engineer's desk: the visit is listed, and opens on the equipment sheet
        await until(lambda: visit_id in window.visits_view.ids(), "the visit in the list")
        assert window.left_tabs.currentWidget() is window.visits_view
        visits.open(visit_id)
        await until(lambda: visits.current is not None, "the visit opened")
        panel = window.visit_panel
        sheet_text = panel.sheet.toPlainText()
        assert "王伟" in sheet_text and sheet["devices"][0]["computer_name"] in sheet_text
        assert "硬盘有异响" in sheet_text
        # The preparation checklist: a spare disk and the form, packed
        panel.add_part_button.click()
        panel.parts.item(0, 0).setText("SSD 512 GB")
        panel.parts.item(0, 2).setCheckState(QtCore.Qt.CheckState.Checked)
        panel.form_ready.setChecked(True)
        visits.save_checklist()
        await until(lambda: "packed" in panel.prepared_label.text(), "the packed checklist")
        # On site: the steps in order; the disk needs consent and a signature first
        assert "您好" in panel.intro.text()  # the standard phrase in the customer's language
        visits.want_disk_step()
        for _ in range(6):  # arrival … solution
            before = visits.next_step()
            panel.next_step_button.click()
            await until(lambda b=before: visits.next_step() != b, f"the step {before}")
        assert visits.next_step() == "disk_consent"
        panel.next_step_button.click()  # no signature yet: refused by name
        await until(lambda: panel.error.isVisibleTo(window), "the refusal")
        assert "signature" in panel.error.text()
        _sign(window, panel.disk_pad)
        panel.next_step_button.click()
        await until(lambda: visits.next_step() == "disk_operation", "the disk consent")
        panel.next_step_button.click()
        await until(lambda: visits.next_step() == "backup_advice", "the disk operation")
        panel.next_step_button.click()
        await until(lambda: visits.next_step() is None, "every step")
        # The report: no signature and no reason is refused; signed, it closes
        panel.work_done.setPlainText("更换硬盘并恢复数据。Replaced the disk.")
        panel.minutes.setValue(80)
        panel.rating.setCurrentIndex(panel.rating.findData(5))
        panel.close_button.click()
        await until(lambda: panel.error.isVisibleTo(window), "the refused report")
        assert "signature" in panel.error.text() and "why" in panel.error.text()
        _sign(window, panel.pad)
        panel.close_button.click()
        await until(lambda: (visits.current or {}).get("state") == "closed", "the closed report")
        # And it reaches the server, signed
        store = window.session.store
        await until(lambda: store.outbox_counts().pending == 0, "the push")
        with sqlite_server.http("supervisor") as http:
            server = http.get(f"/api/v1/visits/{visit_id}").json()
        assert server["state"] == "closed" and server["report"]["signature"]
        assert server["report"]["signer_name"] == "王伟"
        # The report exports to PDF with the Chinese text and the signature image
        target = tmp_path / "report.pdf"
        visits.export("report", target)
        await until(lambda: getattr(visits, "exported", None) == target, "the PDF")
        text = _text(target)
        assert "Servicereport" in text and "王伟" in text and "更换硬盘并恢复数据" in text
        assert "Signedby王伟" in text
        assert _image_count(target) >= 2  # the disk consent and the report's signature
        sheet_pdf = tmp_path / "sheet.pdf"
        visits.export("sheet", sheet_pdf)
        await until(lambda: getattr(visits, "exported", None) == sheet_pdf, "the sheet PDF")
        assert "华信物流有限公司" in _text(sheet_pdf)

    run(scenario())


def test_an_engineer_running_late_tells_the_owner_of_the_contact(
    sqlite_server: LiveServer,
    vault: TokenVault,
    run: Run,
    customer_factory: Callable[..., dict[str, Any]],
) -> None:
    sheet = customer_factory(name="Liv Grønli")
    add_customers(sqlite_server, [sheet])

    async def scenario() -> None:
        agent = await _window(sqlite_server, vault)
        # Given the agent's contact with the customer, and a visit scheduled from it
        agent.contacts.log_contact(
            {"channel": "phone", "caller_name": "Liv Grønli"}, customer_id=sheet["id"]
        )
        await until(lambda: agent.contacts.current is not None, "the contact")
        contact_id = str((agent.contacts.current or {})["id"])
        store = agent.session.store
        await until(lambda: store.outbox_counts().pending == 0, "the contact pushed")
        start = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        with sqlite_server.http("supervisor") as http:
            visit = http.post(
                "/api/v1/visits",
                json={
                    "customer_id": sheet["id"],
                    "contact_id": contact_id,
                    "fault": "Printer jams",
                    "window_start": start.isoformat(),
                    "window_end": (start + dt.timedelta(hours=1)).isoformat(),
                    "engineer": "engineer",
                },
            ).json()
        await until(lambda: store.visit(visit["id"]) is not None, "the visit on the agent's desk")
        engineer = await _window(sqlite_server, vault, "engineer")
        await until(lambda: visit["id"] in engineer.visits_view.ids(), "the engineer's visit")
        engineer.visits.open(visit["id"])
        await until(lambda: engineer.visits.current is not None, "the visit opened")
        # When the engineer calls ahead: 45 minutes late
        engineer.visits.running_late(45, "Traffic on E18")
        # Then the agent who owns the contact is told, with the new time
        await until(
            lambda: [n for n in agent.notifier.given if n.title == "Engineer running late"],
            "the notice",
        )
        notice = next(n for n in agent.notifier.given if n.title == "Engineer running late")
        assert "Traffic on E18" in notice.text and "Liv Grønli" in notice.text

    run(scenario())
