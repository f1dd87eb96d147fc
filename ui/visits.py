"""Visits: the engineer's day, the equipment sheet to read before leaving, the preparation
checklist, the steps on site and the signed service report, all on the laptop's local store so
a visit works without a network.

Agents and supervisors schedule visits from a contact; engineers carry them out. The rules
are the core's (:mod:`agentdesk.domain.visits`); this module shows them and turns clicks into
steps, each kept on the desk first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentdesk.domain.customers import Customer
from agentdesk.domain.errors import FieldError, ValidationFailed
from agentdesk.domain.visits import (
    CONSENT_WAYS,
    STATES,
    STEPS,
    introduction,
    missing_before,
    prepared,
    upcoming,
)
from agentdesk.reports import DISK_SIGNATURE, REPORT_SIGNATURE, equipment_html, report_html
from agentdesk.wire import Directory
from ui.background import Background
from ui.desk_session import DeskSession
from ui.notifier import Notifier
from ui.qt import Qt, QtCore, QtWidgets
from ui.queue_panel import row_table
from ui.report_pdf import write_pdf
from ui.signature_pad import SignaturePad, image_from_base64

Clock = Callable[[], dt.datetime]
COLUMNS = ("When", "Customer", "Computer", "State")


def _local(value: object) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value)).astimezone()


def _when(visit: dict[str, Any]) -> str:
    start, end = _local(visit["window_start"]), _local(visit["window_end"])
    return f"{start:%a %d %b %H:%M}–{end:%H:%M}"


def _items_table(name: str, columns: tuple[str, ...]) -> QtWidgets.QTableWidget:
    table = QtWidgets.QTableWidget(0, len(columns))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
    for column in range(1, len(columns)):
        header.setSectionResizeMode(column, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
    table.setMaximumHeight(150)
    return table


def _set_items(table: QtWidgets.QTableWidget, items: list[dict[str, Any]], *, packed: bool) -> None:
    table.setRowCount(0)
    for item in items:
        _add_item_row(
            table,
            str(item.get("item", "")),
            int(item.get("qty", 1)),
            packed and bool(item.get("packed")),
            packed=packed,
        )


def _add_item_row(
    table: QtWidgets.QTableWidget, name: str, qty: int, done: bool, *, packed: bool
) -> None:
    row = table.rowCount()
    table.insertRow(row)
    table.setItem(row, 0, QtWidgets.QTableWidgetItem(name))
    spin = QtWidgets.QSpinBox()
    spin.setRange(1, 999)
    spin.setValue(qty)
    table.setCellWidget(row, 1, spin)
    if packed:
        check = QtWidgets.QTableWidgetItem("")
        check.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
        check.setCheckState(Qt.CheckState.Checked if done else Qt.CheckState.Unchecked)
        table.setItem(row, 2, check)


def _items_of(table: QtWidgets.QTableWidget, *, packed: bool) -> list[dict[str, Any]]:
    found = []
    for row in range(table.rowCount()):
        name_item = table.item(row, 0)
        name = name_item.text().strip() if name_item is not None else ""
        if not name:
            continue
        spin = table.cellWidget(row, 1)
        qty = spin.value() if isinstance(spin, QtWidgets.QSpinBox) else 1
        entry: dict[str, Any] = {"item": name, "qty": qty}
        if packed:
            check = table.item(row, 2)
            entry["packed"] = check is not None and check.checkState() == Qt.CheckState.Checked
        found.append(entry)
    return found


class VisitsView(QtWidgets.QWidget):
    """The list of visits (the engineer's day and what comes next)."""

    def __init__(self) -> None:
        super().__init__()
        self.summary = QtWidgets.QLabel("No visits")
        self.summary.setProperty("role", "subtle")
        self.table = row_table("visits", COLUMNS)
        self.schedule_button = QtWidgets.QPushButton("Schedule a visit…")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.schedule_button, 0, Qt.AlignmentFlag.AlignRight)

    def ids(self) -> list[str]:
        found = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None:
                found.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return found


class VisitPanel(QtWidgets.QWidget):
    """One visit, in the middle of the window: equipment sheet, preparation, on site, report."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("visit-panel")
        self.title = QtWidgets.QLabel("")
        self.title.setProperty("role", "heading")
        self.details = QtWidgets.QLabel("")
        self.details.setWordWrap(True)
        self.details.setProperty("role", "subtle")
        self.error = QtWidgets.QLabel("")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.tabs = QtWidgets.QTabWidget()

        # The equipment sheet
        self.sheet = QtWidgets.QTextBrowser()
        self.sheet.setObjectName("equipment-sheet")
        self.open_sheet_button = QtWidgets.QPushButton("Edit the sheet…")
        self.open_sheet_button.setToolTip("Record findings (a replaced disk…) on the sheet")
        self.sheet_pdf_button = QtWidgets.QPushButton("Export PDF…")
        sheet_page = QtWidgets.QWidget()
        sheet_layout = QtWidgets.QVBoxLayout(sheet_page)
        sheet_layout.addWidget(self.sheet, 1)
        sheet_buttons = QtWidgets.QHBoxLayout()
        sheet_buttons.addStretch(1)
        sheet_buttons.addWidget(self.open_sheet_button)
        sheet_buttons.addWidget(self.sheet_pdf_button)
        sheet_layout.addLayout(sheet_buttons)
        self.tabs.addTab(sheet_page, "Equipment sheet")

        # Preparation
        self.parts = _items_table("checklist-parts", ("Spare part", "Qty", "Packed"))
        self.tools = _items_table("checklist-tools", ("Tool", "Qty", "Packed"))
        self.add_part_button = QtWidgets.QPushButton("Add part")
        self.add_tool_button = QtWidgets.QPushButton("Add tool")
        self.form_ready = QtWidgets.QCheckBox("A clean service form is ready")
        self.prepared_label = QtWidgets.QLabel("")
        self.save_checklist_button = QtWidgets.QPushButton("Save checklist")
        self.save_checklist_button.setProperty("role", "primary")
        prep_page = QtWidgets.QWidget()
        prep = QtWidgets.QVBoxLayout(prep_page)
        prep.addWidget(self.parts)
        prep.addWidget(self.add_part_button, 0, Qt.AlignmentFlag.AlignLeft)
        prep.addWidget(self.tools)
        prep.addWidget(self.add_tool_button, 0, Qt.AlignmentFlag.AlignLeft)
        prep.addWidget(self.form_ready)
        prep_row = QtWidgets.QHBoxLayout()
        prep_row.addWidget(self.prepared_label, 1)
        prep_row.addWidget(self.save_checklist_button)
        prep.addLayout(prep_row)
        prep.addStretch(1)
        self.tabs.addTab(prep_page, "Preparation")

        # On site
        self.intro = QtWidgets.QLabel("")
        self.intro.setWordWrap(True)
        self.steps = QtWidgets.QListWidget()
        self.steps.setObjectName("visit-steps")
        self.steps.setMinimumHeight(150)
        self.consent_by = QtWidgets.QLineEdit()
        self.consent_by.setPlaceholderText("Who gave consent (name)")
        self.consent_how = QtWidgets.QComboBox()
        for way in CONSENT_WAYS:
            self.consent_how.addItem(way, way)
        self.disk_pad = SignaturePad()
        self.disk_pad.setObjectName("disk-signature")
        self.disk_clear = QtWidgets.QPushButton("Clear")
        self.next_step_button = QtWidgets.QPushButton("Done")
        self.next_step_button.setProperty("role", "primary")
        self.disk_button = QtWidgets.QPushButton("Disk operation needed…")
        self.late_button = QtWidgets.QPushButton("Running late…")
        site_page = QtWidgets.QWidget()
        site = QtWidgets.QVBoxLayout(site_page)
        site.addWidget(self.intro)
        site.addWidget(self.steps, 1)
        consent = QtWidgets.QFormLayout()
        consent.addRow("Consent by", self.consent_by)
        consent.addRow("How", self.consent_how)
        self.disk_box = QtWidgets.QGroupBox("Signature before the disk operation")
        disk_layout = QtWidgets.QVBoxLayout(self.disk_box)
        disk_layout.addWidget(self.disk_pad)
        disk_layout.addWidget(self.disk_clear, 0, Qt.AlignmentFlag.AlignRight)
        self.disk_box.hide()
        site.addLayout(consent)
        site.addWidget(self.disk_box)
        site_buttons = QtWidgets.QHBoxLayout()
        site_buttons.addWidget(self.late_button)
        site_buttons.addWidget(self.disk_button)
        site_buttons.addStretch(1)
        site_buttons.addWidget(self.next_step_button)
        site.addLayout(site_buttons)
        self.tabs.addTab(site_page, "On site")

        # The report
        self.work_done = QtWidgets.QPlainTextEdit()
        self.work_done.setObjectName("work-done")
        self.work_done.setPlaceholderText("What was done, in plain words")
        self.work_done.setFixedHeight(70)
        self.work_done.setTabChangesFocus(True)
        self.parts_used = _items_table("parts-used", ("Part used", "Qty"))
        self.add_used_button = QtWidgets.QPushButton("Add part used")
        self.minutes = QtWidgets.QSpinBox()
        self.minutes.setRange(0, 1440)
        self.minutes.setSuffix(" min")
        self.pad = SignaturePad()
        self.pad_clear = QtWidgets.QPushButton("Clear signature")
        self.signer = QtWidgets.QLineEdit()
        self.signer.setPlaceholderText("Name of who signs")
        self.rating = QtWidgets.QComboBox()
        self.rating.addItem("Not given", None)
        for stars in range(5, 0, -1):
            self.rating.addItem("★" * stars + "☆" * (5 - stars), stars)
        self.comment = QtWidgets.QLineEdit()
        self.comment.setPlaceholderText("The customer's comment")
        self.no_signature = QtWidgets.QLineEdit()
        self.no_signature.setPlaceholderText("Only if the customer cannot sign: why")
        self.close_button = QtWidgets.QPushButton("Close the report")
        self.close_button.setProperty("role", "primary")
        self.report_pdf_button = QtWidgets.QPushButton("Export report PDF…")
        report_page = QtWidgets.QWidget()
        report = QtWidgets.QFormLayout(report_page)
        report.addRow("Work done", self.work_done)
        report.addRow("Parts used", self.parts_used)
        report.addRow("", self.add_used_button)
        report.addRow("Time on site", self.minutes)
        report.addRow("Signature", self.pad)
        report.addRow("", self.pad_clear)
        report.addRow("Signed by", self.signer)
        report.addRow("Rating", self.rating)
        report.addRow("Comment", self.comment)
        report.addRow("No signature", self.no_signature)
        report_buttons = QtWidgets.QHBoxLayout()
        report_buttons.addWidget(self.report_pdf_button)
        report_buttons.addStretch(1)
        report_buttons.addWidget(self.close_button)
        report.addRow(report_buttons)
        report_scroll = QtWidgets.QScrollArea()
        report_scroll.setWidgetResizable(True)
        report_scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        report_scroll.setWidget(report_page)
        self.tabs.addTab(report_scroll, "Report")

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.details)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error)
        self.add_part_button.clicked.connect(
            lambda: _add_item_row(self.parts, "", 1, False, packed=True)
        )
        self.add_tool_button.clicked.connect(
            lambda: _add_item_row(self.tools, "", 1, False, packed=True)
        )
        self.add_used_button.clicked.connect(
            lambda: _add_item_row(self.parts_used, "", 1, False, packed=False)
        )
        self.pad_clear.clicked.connect(self.pad.clear)
        self.disk_clear.clicked.connect(self.disk_pad.clear)

    def show_error(self, errors: list[FieldError] | None) -> None:
        if not errors:
            self.error.hide()
            return
        self.error.setText("\n".join(f"{e.field.replace('_', ' ')}: {e.message}" for e in errors))
        self.error.show()


class VisitController(QtCore.QObject):
    """Fills the visits list and the visit panel from the local store; records each step.

    Signals:
        opened(str): a visit was opened in the middle of the window.
        open_customer(str): the engineer wants to edit the customer's sheet.
    """

    opened = QtCore.Signal(str)
    open_customer = QtCore.Signal(str)

    def __init__(
        self,
        view: VisitsView,
        panel: VisitPanel,
        session: DeskSession,
        background: Background,
        notifier: Notifier,
        *,
        organisation: str = "",
        clock: Clock | None = None,
    ) -> None:
        super().__init__(view)
        self.view = view
        self.panel = panel
        self.session = session
        self.background = background
        self.notifier = notifier
        self.organisation = organisation
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.records: dict[str, dict[str, Any]] = {}
        self.current: dict[str, Any] | None = None
        self.customer: Customer | None = None
        self.export_dir = Path.home()
        self._disk_wanted = False
        self._late_seen: dict[str, int] | None = None
        view.table.itemClicked.connect(lambda _item: self.open_selected())
        view.table.itemActivated.connect(lambda _item: self.open_selected())
        panel.save_checklist_button.clicked.connect(self.save_checklist)
        panel.next_step_button.clicked.connect(self.record_next_step)
        panel.disk_button.clicked.connect(self.want_disk_step)
        panel.late_button.clicked.connect(self.ask_running_late)
        panel.close_button.clicked.connect(self.close_report)
        panel.open_sheet_button.clicked.connect(self._open_sheet)
        panel.sheet_pdf_button.clicked.connect(lambda: self.ask_export("sheet"))
        panel.report_pdf_button.clicked.connect(lambda: self.ask_export("report"))
        session.records_changed.connect(lambda _ids: self.refresh())
        self.refresh()

    @property
    def engineer(self) -> bool:
        return self.session.user.role == "engineer"

    def refresh(self) -> None:
        store, user = self.session.store, self.session.user

        async def load() -> list[dict[str, Any]]:
            if self.engineer:
                found: list[dict[str, Any]] = await self.session.runner.read(
                    store.visits_of_engineer, user.username
                )
            else:
                found = await self.session.runner.read(store.open_visits)
            return found

        self.background.run(load(), name="visits", success=self.show)

    def show(self, records: list[dict[str, Any]]) -> None:
        self._announce_late(records)
        now = self.clock()
        ordered = upcoming(records, now)
        done = [r for r in records if r not in ordered and r.get("state") == "closed"][-5:]
        shown = ordered + done
        self.records = {str(r["id"]): r for r in shown}
        table = self.view.table
        table.setRowCount(len(shown))
        today = dt.datetime.now().astimezone().date()
        for row, record in enumerate(shown):
            state = STATES.get(str(record.get("state")), str(record.get("state")))
            if record.get("state") == "scheduled" and prepared(record):
                state += " · packed"
            if record.get("unsent"):
                state += " · not sent yet"
            cells = (
                _when(record),
                str(record.get("customer_name") or ""),
                str(record.get("device") or ""),
                state,
            )
            for column, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, record["id"])
                if _local(record["window_start"]).date() == today:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                table.setItem(row, column, item)
        todays = sum(1 for r in ordered if _local(r["window_start"]).date() == today)
        self.view.summary.setText(
            f"{todays} today · {len(ordered)} open" if ordered else "No open visits"
        )
        if self.current is not None and str(self.current["id"]) in self.records:
            fresh = self.records[str(self.current["id"])]
            if fresh.get("version") != self.current.get("version") or fresh != self.current:
                self.current = fresh
                self._fill_progress()

    def _announce_late(self, records: list[dict[str, Any]]) -> None:
        """The owner of the contact a visit came from hears when the engineer runs late."""
        counts = {str(r["id"]): len(r.get("late") or []) for r in records}
        first_look = self._late_seen is None
        seen = self._late_seen or {}
        self._late_seen = counts
        if first_look:
            return
        me = self.session.user
        fresh = [
            r
            for r in records
            if counts[str(r["id"])] > seen.get(str(r["id"]), 0)
            and r.get("contact_id")
            and r.get("engineer") != me.username
        ]
        store = self.session.store
        for record in fresh:
            late = (record.get("late") or [])[-1]

            def tell(
                contact: dict[str, Any] | None,
                record: dict[str, Any] = record,
                late: dict[str, Any] = late,
            ) -> None:
                if contact is None or contact.get("owner_id") != me.id:
                    return
                eta = _local(late["eta"])
                self.notifier.notify(
                    "Engineer running late",
                    f"{record.get('engineer_name')} reaches {record.get('customer_name')} "
                    f"at {eta:%H:%M}: {late.get('reason') or 'no reason given'}",
                )

            self.background.run(
                self.session.runner.read(store.contact, str(record["contact_id"])), success=tell
            )

    # --- one visit --------------------------------------------------------------------------

    def open_selected(self) -> None:
        rows = self.view.table.selectionModel().selectedRows()
        if not rows:
            return
        item = self.view.table.item(rows[0].row(), 0)
        if item is not None:
            self.open(str(item.data(Qt.ItemDataRole.UserRole)))

    def open(self, visit_id: str) -> None:
        if self.current is not None and self.current["id"] == visit_id:
            self.opened.emit(visit_id)  # already open: keep what is typed and drawn
            return
        store = self.session.store

        async def load() -> tuple[dict[str, Any] | None, Customer | None, list[Any], list[Any]]:
            visit = await self.session.runner.read(store.visit, visit_id)
            if visit is None:
                return None, None, [], []
            customer_id = str(visit["customer_id"])
            customer = await self.session.runner.read(store.customer, customer_id)
            contacts = await self.session.runner.read(store.contacts_of, customer_id)
            visits = await self.session.runner.read(store.visits_of_customer, customer_id)
            return visit, customer, contacts, visits

        def show(
            found: tuple[dict[str, Any] | None, Customer | None, list[Any], list[Any]],
        ) -> None:
            visit, customer, contacts, visits = found
            if visit is None:
                return
            self.current, self.customer = visit, customer
            self._disk_wanted = "disk_consent" in (visit.get("steps") or {})
            self._fill(visit, customer, contacts, visits)
            self.opened.emit(visit_id)

        self.background.run(load(), name="visit", success=show)

    def _fill(
        self,
        visit: dict[str, Any],
        customer: Customer | None,
        contacts: list[dict[str, Any]],
        visits: list[dict[str, Any]],
    ) -> None:
        panel = self.panel
        panel.show_error(None)
        panel.title.setText(f"{visit.get('customer_name')} · {visit.get('device') or ''}")
        if customer is not None:
            panel.sheet.setHtml(
                equipment_html(customer, visit=visit, contacts=contacts, visits=visits, tz=_tz())
            )
        else:
            panel.sheet.setHtml("<p>The customer's sheet is not on this desk yet (sync).</p>")
        checklist = visit.get("checklist") or {}
        _set_items(panel.parts, list(checklist.get("parts") or []), packed=True)
        _set_items(panel.tools, list(checklist.get("tools") or []), packed=True)
        panel.form_ready.setChecked(bool(checklist.get("form_ready")))
        report = visit.get("report") or {}
        _set_items(
            panel.parts_used,
            list(report.get("parts_used") or checklist.get("parts") or []),
            packed=False,
        )
        panel.work_done.setPlainText(str(report.get("work_done") or ""))
        panel.signer.setText(
            str(report.get("signer_name") or (customer.name if customer is not None else ""))
        )
        panel.pad.clear()
        panel.disk_pad.clear()
        panel.rating.setCurrentIndex(max(0, panel.rating.findData(report.get("rating"))))
        panel.comment.setText(str(report.get("comment") or ""))
        panel.no_signature.setText(str(report.get("no_signature_reason") or ""))
        panel.minutes.setValue(int(report.get("minutes_on_site") or self._minutes_on_site(visit)))
        self._show_refusals(str(visit["id"]))
        panel.consent_by.setText(customer.name if customer is not None else "")
        language = customer.language if customer is not None else "en"
        phrase = introduction(language, self.session.user.full_name, self.organisation)
        panel.intro.setText(f"Say: “{phrase}”")
        self._fill_progress()

    def _fill_progress(self) -> None:
        visit = self.current
        if visit is None:
            return
        panel = self.panel
        steps = visit.get("steps") or {}
        state = STATES.get(str(visit.get("state")), "")
        eta = f" · new ETA {_local(visit['eta']):%H:%M}" if visit.get("eta") else ""
        panel.details.setText(
            f"{_when(visit)}{eta} · {visit.get('engineer_name')} · {state}\n"
            f"Fault: {visit.get('fault')}"
        )
        panel.prepared_label.setText(
            "Everything is packed." if prepared(visit) else "Tick each item as you pack it."
        )
        panel.steps.clear()
        wanted = self._wanted_steps()
        for key in wanted:
            done = steps.get(key)
            mark = "✓" if done else "○"
            when = f"  {_local(done['at']):%H:%M}" if done else ""
            extra = ""
            if done and done.get("consent_by"):
                extra = f" — {done['consent_by']} ({done.get('how')})"
            if key == "arrival" and done:
                extra = " — on time" if done.get("on_time") else " — late"
            panel.steps.addItem(f"{mark} {STEPS[key]}{when}{extra}")
        following = self.next_step()
        open_ = visit.get("state") in ("scheduled", "on_site")
        panel.next_step_button.setEnabled(open_ and following is not None)
        panel.next_step_button.setText(
            f"Done: {STEPS[following].lower()}" if following else "All steps done"
        )
        panel.disk_box.setVisible(following == "disk_consent")
        needs_consent = following in ("consent_open", "disk_consent")
        panel.consent_by.setEnabled(needs_consent)
        panel.consent_how.setEnabled(needs_consent)
        panel.disk_button.setVisible(not self._disk_wanted and open_)
        panel.late_button.setEnabled(open_ and "arrival" not in steps)
        panel.close_button.setEnabled(open_ and "arrival" in steps)
        panel.close_button.setText("Closed" if visit.get("report") else "Close the report")
        panel.report_pdf_button.setEnabled(bool(visit.get("report")))

    def _minutes_on_site(self, visit: dict[str, Any]) -> int:
        """Minutes since the arrival, as a first guess at the time on site."""
        arrival = (visit.get("steps") or {}).get("arrival")
        if not arrival:
            return 0
        spent = self.clock() - dt.datetime.fromisoformat(str(arrival["at"]))
        return max(1, min(24 * 60, round(spent.total_seconds() / 60)))

    def _show_refusals(self, visit_id: str) -> None:
        """Steps the server refused (the visit was cancelled meanwhile, say) stay on the
        desk; the panel says which and why."""
        store = self.session.store

        def show(issues: list[Any]) -> None:
            if not issues or self.current is None or self.current["id"] != visit_id:
                return
            reasons = "; ".join(f"{field}: {text}" for i in issues for field, text in i.errors)
            self.panel.error.setText(
                f"The server refused {len(issues)} step(s), kept on this desk: {reasons}"
            )
            self.panel.error.show()

        self.background.run(self.session.runner.read(store.visit_refusals, visit_id), success=show)

    def _wanted_steps(self) -> list[str]:
        return [
            s for s in STEPS if self._disk_wanted or s not in ("disk_consent", "disk_operation")
        ]

    def next_step(self) -> str | None:
        visit = self.current or {}
        steps = visit.get("steps") or {}
        for key in self._wanted_steps():
            if key not in steps:
                return key
        return None

    def want_disk_step(self) -> None:
        """The work needs a disk operation: consent and a signature come first."""
        self._disk_wanted = True
        self._fill_progress()

    # --- steps ------------------------------------------------------------------------------

    def _record(
        self,
        op: str,
        fields: dict[str, Any],
        *,
        done: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        visit = self.current
        if visit is None:
            return
        visit_id = str(visit["id"])
        step = {"at": self.clock().isoformat(), **fields}
        write = self.session.runner.write(self.session.store.record_visit, visit_id, op, step)

        def kept(record: dict[str, Any]) -> None:
            self.panel.show_error(None)
            if self.current is not None and self.current["id"] == visit_id:
                self.current = record
                self._fill_progress()
            self.session.wake_sync()
            self.refresh()
            if done is not None:
                done(record)

        def refused(error: BaseException) -> None:
            if isinstance(error, ValidationFailed):
                self.panel.show_error(error.errors)
                return
            self.background.report(error)

        self.background.run(write, success=kept, failure=refused)

    def save_checklist(self) -> None:
        def used_from_packed(record: dict[str, Any]) -> None:
            # The parts taken along are the first guess at the parts used.
            if self.panel.parts_used.rowCount() == 0:
                parts = (record.get("checklist") or {}).get("parts") or []
                _set_items(self.panel.parts_used, list(parts), packed=False)

        self._record(
            "checklist",
            {
                "parts": _items_of(self.panel.parts, packed=True),
                "tools": _items_of(self.panel.tools, packed=True),
                "form_ready": self.panel.form_ready.isChecked(),
            },
            done=used_from_packed,
        )

    def record_next_step(self) -> None:
        step = self.next_step()
        if step is None:
            return
        fields: dict[str, Any] = {"step": step}
        if step in ("consent_open", "disk_consent"):
            fields["consent_by"] = self.panel.consent_by.text()
            fields["how"] = self.panel.consent_how.currentData()
        if step == "disk_consent":
            fields["signature"] = self.panel.disk_pad.png_base64()
            fields["signer_name"] = self.panel.consent_by.text()
        missing = missing_before(self.current or {}, step)
        if missing:
            self.panel.show_error([FieldError("step", f"first: {', '.join(missing)}")])
            return
        self._record("step", fields)

    def ask_running_late(self) -> None:
        visit = self.current
        if visit is None:
            return
        minutes, ok = QtWidgets.QInputDialog.getInt(
            self.view.window(),
            "Running late",
            "Call the customer, apologise and agree a new time.\nNew arrival in how many minutes?",
            30,
            5,
            24 * 60,
        )
        if not ok:
            return
        reason, ok = QtWidgets.QInputDialog.getText(
            self.view.window(), "Running late", "Why (for the record)?"
        )
        if ok:
            self.running_late(minutes, reason)

    def running_late(self, minutes: int, reason: str) -> None:
        eta = self.clock() + dt.timedelta(minutes=minutes)
        self._record("running_late", {"eta": eta.isoformat(), "reason": reason})

    def close_report(self) -> None:
        panel = self.panel
        rating = panel.rating.currentData()
        fields: dict[str, Any] = {
            "work_done": panel.work_done.toPlainText(),
            "parts_used": _items_of(panel.parts_used, packed=False),
            "minutes_on_site": panel.minutes.value(),
            "signature": panel.pad.png_base64(),
            "signer_name": panel.signer.text(),
            "rating": rating,
            "comment": panel.comment.text(),
            "no_signature_reason": panel.no_signature.text(),
        }
        self._record("report", fields)

    def _open_sheet(self) -> None:
        if self.current is not None:
            self.open_customer.emit(str(self.current["customer_id"]))

    # --- PDF ---------------------------------------------------------------------------------

    def ask_export(self, what: str) -> None:
        visit = self.current
        if visit is None:
            return
        name = "service-report" if what == "report" else "equipment-sheet"
        suggested = self.export_dir / f"{name}-{str(visit['id'])[:8]}.pdf"
        path, _filter = QtWidgets.QFileDialog.getSaveFileName(
            self.view.window(), "Export PDF", str(suggested), "PDF (*.pdf)"
        )
        if path:
            self.export(what, Path(path))

    def export(self, what: str, path: Path) -> None:
        """Write the equipment sheet or the report to ``path`` (off the GUI thread)."""
        visit = self.current
        if visit is None:
            return
        store = self.session.store
        customer_id = str(visit["customer_id"])

        async def write() -> Path:
            customer = await self.session.runner.read(store.customer, customer_id)
            if what == "report":
                html = report_html(visit, customer, tz=_tz())
            else:
                if customer is None:
                    raise ValidationFailed([FieldError("customer", "the sheet is not here yet")])
                contacts = await self.session.runner.read(store.contacts_of, customer_id)
                visits = await self.session.runner.read(store.visits_of_customer, customer_id)
                html = equipment_html(
                    customer, visit=visit, contacts=contacts, visits=visits, tz=_tz()
                )
            images = {}
            report = visit.get("report") or {}
            if report.get("signature"):
                images[REPORT_SIGNATURE] = image_from_base64(str(report["signature"]))
            disk = (visit.get("steps") or {}).get("disk_consent") or {}
            if disk.get("signature"):
                images[DISK_SIGNATURE] = image_from_base64(str(disk["signature"]))
            return await asyncio.to_thread(write_pdf, path, html, images)

        def written(done: Path) -> None:
            self.exported = done
            self.notifier.notify("PDF saved", str(done), sound=False)

        self.background.run(write(), name="pdf", success=written)


def _tz() -> dt.tzinfo:
    zone = dt.datetime.now().astimezone().tzinfo
    return zone if zone is not None else dt.UTC


class ScheduleVisitDialog(QtWidgets.QDialog):
    """Schedule a visit for the customer of the contact in hand (or the open sheet)."""

    def __init__(
        self,
        parent: QtWidgets.QWidget | None,
        customer: Customer,
        directory: Directory | None,
        *,
        fault: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Schedule a visit — {customer.name}")
        self.customer = customer
        self.device = QtWidgets.QComboBox()
        for device in customer.devices:
            self.device.addItem(f"{device.computer_name} · {device.os}", device.computer_name)
        self.device.addItem("Other / not on the sheet", "")
        self.fault = QtWidgets.QPlainTextEdit(fault)
        self.fault.setFixedHeight(70)
        self.fault.setTabChangesFocus(True)
        tomorrow = QtCore.QDate.currentDate().addDays(1)
        self.day = QtWidgets.QDateEdit(tomorrow)
        self.day.setCalendarPopup(True)
        self.start = QtWidgets.QTimeEdit(QtCore.QTime(9, 0))
        self.end = QtWidgets.QTimeEdit(QtCore.QTime(11, 0))
        self.engineer = QtWidgets.QComboBox()
        self.engineer.addItem("Choose the engineer…", None)
        self.names: dict[str, str] = {}
        if directory is not None:
            for user in directory.users:
                if user.role == "engineer":
                    self.names[user.username] = user.full_name
                    self.engineer.addItem(
                        f"{user.full_name} · {user.department or ''}", user.username
                    )
        self.error = QtWidgets.QLabel("")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        window = QtWidgets.QHBoxLayout()
        window.addWidget(self.day, 1)
        window.addWidget(QtWidgets.QLabel("from"))
        window.addWidget(self.start)
        window.addWidget(QtWidgets.QLabel("to"))
        window.addWidget(self.end)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Schedule")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QtWidgets.QFormLayout(self)
        form.addRow("Computer", self.device)
        form.addRow("Fault", self.fault)
        form.addRow("When (your time)", window)
        form.addRow("Engineer", self.engineer)
        form.addRow(self.error)
        form.addRow(buttons)

    def fields(self) -> dict[str, Any]:
        day = self.day.date().toPython()
        assert isinstance(day, dt.date)
        start = dt.datetime.combine(day, self.start.time().toPython()).astimezone()  # type: ignore[arg-type]
        end = dt.datetime.combine(day, self.end.time().toPython()).astimezone()  # type: ignore[arg-type]
        engineer = self.engineer.currentData()
        return {
            "customer_id": self.customer.id,
            "customer_name": self.customer.name,
            "device": self.device.currentData() or "",
            "fault": self.fault.toPlainText(),
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
            "engineer": engineer or "",
            "engineer_name": self.names.get(str(engineer), ""),
        }

    def show_errors(self, errors: list[FieldError]) -> None:
        self.error.setText("\n".join(f"{e.field.replace('_', ' ')}: {e.message}" for e in errors))
        self.error.show()


def new_visit_id() -> str:
    return str(uuid.uuid4())
