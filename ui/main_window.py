"""The desk's main window: waiting contacts and search on the left, the information sheet
and its contact history in the middle, the contact in hand on the right."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from agentdesk import __version__
from agentdesk.domain.customers import Customer
from agentdesk.domain.errors import ValidationFailed
from agentdesk.domain.hold import DEFAULT_INTERVAL_S, check_interval
from agentdesk.domain.visits import history_entry
from agentdesk.sync.client import Offline, ServerTrouble
from agentdesk.wire import Directory, SitePublic
from ui.audit_view import AuditDialog
from ui.background import Background, describe
from ui.call_control import CallControl
from ui.contact_pane import ContactController, ContactPane
from ui.desk_session import DeskSession
from ui.history_view import HistoryView
from ui.hold_board import HoldBoardView
from ui.inbox import (
    EscalationController,
    EscalationView,
    InboxController,
    InboxView,
    load_directory,
)
from ui.log_contact import LogContactDialog
from ui.message_form import MessageForm
from ui.notifier import Notifier
from ui.qt import Qt, QtCore, QtGui, QtWidgets
from ui.queue_panel import QueueController, QueueView
from ui.script_panel import ScriptController, ScriptPanel
from ui.search_panel import SearchController, SearchView
from ui.sheet_controller import SheetController
from ui.sheet_view import EmptySheet, SheetView
from ui.sync_status import SyncStatusWidget
from ui.training import TrainingController, TrainingView
from ui.training_desk import TrainingDesk, TrainingPage
from ui.visits import (
    ScheduleVisitDialog,
    VisitController,
    VisitPanel,
    VisitsView,
    new_visit_id,
)


def saved_interval() -> float:
    """The site's check-back interval as this desk was set up (30 s unless changed)."""
    value = QtCore.QSettings().value("check_back_interval_s", DEFAULT_INTERVAL_S)
    try:
        return check_interval(value)
    except ValidationFailed:
        return DEFAULT_INTERVAL_S


def local_zone() -> dt.tzinfo:
    zone = dt.datetime.now().astimezone().tzinfo
    return zone if zone is not None else dt.UTC


class MainWindow(QtWidgets.QMainWindow):
    """Everything an agent works in, for one signed-in session.

    Signals:
        sign_out_requested(): the agent chose File → Sign out.
        closed(): the window was closed.
    """

    sign_out_requested = QtCore.Signal()
    closed = QtCore.Signal()

    def __init__(self, session: DeskSession) -> None:
        super().__init__()
        self.session = session
        self.background = Background(self)
        self.setWindowTitle(f"AgentDesk — {session.user.full_name}")
        self.resize(1600, 900)
        self.notifier = Notifier(self)
        self.notifier.activated.connect(self.bring_to_front)

        self.queue_view = QueueView()
        self.search_view = SearchView()
        self.sheet_view = SheetView()
        self.history_view = HistoryView()
        self.empty = EmptySheet()
        self.contact_pane = ContactPane()
        self.queue = QueueController(self.queue_view, session, self.background, self.notifier)
        self.search = SearchController(self.search_view, session, self.background)
        self.sheet = SheetController(self.sheet_view, session, self.background)
        self.contacts = ContactController(
            self.contact_pane, session, self.background, self.notifier
        )
        self.hold_view = HoldBoardView()
        self.calls = CallControl(
            self.contacts,
            self.hold_view,
            session,
            self.background,
            self.notifier,
            interval_s=saved_interval(),
        )

        self.script_panel = ScriptPanel()
        self.scripts = ScriptController(
            self.script_panel,
            agent_full_name=session.user.full_name,
            organisation=session.user.department or "",
        )
        self.contacts.adherence_for = self.scripts.adherence
        self.contacts.contact_changed.connect(self.scripts.follow)
        self.scripts.message_requested.connect(lambda: self.take_message())
        self.contact_pane.message_button.clicked.connect(lambda: self.take_message())
        self.contacts.language_known.connect(self.scripts.set_language)
        self.sheet_tabs = QtWidgets.QTabWidget()
        self.sheet_tabs.addTab(self.sheet_view, "Information sheet")
        self.sheet_tabs.addTab(self.history_view, "Contact history")
        self.inbox_view = InboxView()
        self.inbox = InboxController(self.inbox_view, session, self.background, self.notifier)
        self.right = QtWidgets.QStackedWidget()
        self.right.addWidget(self.empty)
        self.right.addWidget(self.sheet_tabs)
        self.right.addWidget(self.inbox_view.detail_panel)
        self.inbox.resend_requested.connect(self.take_message)
        self.inbox.opened.connect(
            lambda _id: self.right.setCurrentWidget(self.inbox_view.detail_panel)
        )
        self.visits_view = VisitsView()
        self.visit_panel = VisitPanel()
        self.visits = VisitController(
            self.visits_view,
            self.visit_panel,
            session,
            self.background,
            self.notifier,
            organisation=session.user.department or "",
        )
        self.right.addWidget(self.visit_panel)
        self.training_view = TrainingView()
        self.training = TrainingController(self.training_view)
        self.training_page = TrainingPage(self.training_view)
        self.training_desk = TrainingDesk(
            self.training_page, self.training, session, self.background
        )
        session.answers_published.connect(self.training_desk.load_answers)
        self.right.addWidget(self.training_page)
        self.visits.opened.connect(lambda _id: self.right.setCurrentWidget(self.visit_panel))
        # A visit needs the whole middle: the call script makes room while one is open.
        self.right.currentChanged.connect(
            lambda _index: self.script_panel.setVisible(
                self.right.currentWidget() not in (self.visit_panel, self.training_page)
            )
        )
        self.visits.open_customer.connect(self.open_customer)
        self.visits_view.schedule_button.clicked.connect(self.schedule_visit)
        self.left_tabs = QtWidgets.QTabWidget()
        self.left_tabs.setObjectName("left-tabs")
        self.left_tabs.addTab(self.search_view, "Customers")
        self.left_tabs.addTab(self.inbox_view, "Inbox")
        self.left_tabs.addTab(self.visits_view, "Visits")
        if session.user.role == "engineer":
            self.left_tabs.setCurrentWidget(self.visits_view)
        if session.user.role == "trainee":
            self.right.setCurrentWidget(self.training_page)
        self.inbox.unread_changed.connect(self._unread)
        self.escalation_view: EscalationView | None = None
        if session.user.role in ("supervisor", "admin"):
            self.escalation_view = EscalationView()
            self.escalations = EscalationController(self.escalation_view, session, self.background)
            self.left_tabs.addTab(self.escalation_view, "Overdue")
            self.escalations.changed.connect(self._overdue)
        left = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.queue_view)
        left.addWidget(self.hold_view)
        left.addWidget(self.left_tabs)
        left.setSizes([240, 250, 360])
        splitter = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        middle = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        middle.addWidget(self.right)
        middle.addWidget(self.script_panel)
        middle.setSizes([560, 300])
        splitter.addWidget(left)
        splitter.addWidget(middle)
        splitter.addWidget(self.contact_pane)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 5)
        splitter.setStretchFactor(2, 3)
        splitter.setSizes([450, 780, 370])
        splitter.setContentsMargins(8, 8, 8, 0)
        if session.user.role == "trainee":
            # Trainees never see real contacts or customers: the desk is the training page.
            left.hide()
            self.contact_pane.hide()
        self.setCentralWidget(splitter)

        self.sync_status = SyncStatusWidget()
        self.user_label = QtWidgets.QLabel(self._user_text())
        self.user_label.setProperty("role", "subtle")
        self.statusBar().addWidget(self.sync_status, 1)
        self.statusBar().addPermanentWidget(self.user_label)
        session.status_changed.connect(self.sync_status.show_status)
        self.sync_status.show_status(session.status)

        self.search.open_requested.connect(self.open_customer)
        self.search.new_requested.connect(self.new_customer)
        self.sheet.opened.connect(self._sheet_opened)
        self.sheet.saved.connect(self._sheet_saved)
        self.queue.answer_requested.connect(self._answer)
        self.queue_view.log_button.clicked.connect(self.log_contact)
        self.contacts.open_customer.connect(self.open_customer)
        self.contacts.create_customer.connect(self.new_customer_for_caller)
        self.history_view.contact_activated.connect(self._history_contact)
        self.contacts.contact_changed.connect(self._contact_changed)
        session.records_changed.connect(self._records_changed)
        self._caller_sheet_for: str | None = None
        self.message_form: MessageForm | None = None
        self._build_menus()
        self.queue.refresh()
        self.calls.restore()
        self.background.run(self._published_scripts(), name="scripts")
        self.background.run(
            session.client.site(), name="site", success=self._site_rules, failure=lambda _e: None
        )

    def _user_text(self) -> str:
        user = self.session.user
        dept = f" · {user.department}" if user.department else ""
        return f"{user.full_name} ({user.role}{dept})"

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        new = file_menu.addAction("&New customer sheet")
        new.setShortcut(QtGui.QKeySequence.StandardKey.New)
        new.triggered.connect(self.new_customer)
        sync = file_menu.addAction("Sync &now")
        sync.setShortcut(QtGui.QKeySequence("F5"))
        sync.triggered.connect(self.session.wake_sync)
        file_menu.addSeparator()
        sign_out = file_menu.addAction("Sign &out")
        sign_out.triggered.connect(self.sign_out_requested.emit)
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QtGui.QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)

        contact_menu = self.menuBar().addMenu("&Contact")
        answer = contact_menu.addAction("&Answer next waiting")
        answer.setShortcut(QtGui.QKeySequence("F2"))
        answer.triggered.connect(self.queue.answer_selected)
        log_contact = contact_menu.addAction("&Log a contact…")
        log_contact.setShortcut(QtGui.QKeySequence("Ctrl+L"))
        log_contact.triggered.connect(self.log_contact)
        contact_menu.addSeparator()
        hold = contact_menu.addAction("&Hold…")
        hold.setShortcut(QtGui.QKeySequence("Ctrl+H"))
        hold.triggered.connect(self._hold_menu)
        resume = contact_menu.addAction("&Resume held call")
        resume.setShortcut(QtGui.QKeySequence("Ctrl+R"))
        resume.triggered.connect(lambda: self.calls.resume())
        next_held = contact_menu.addAction("Ne&xt held call")
        next_held.setShortcut(QtGui.QKeySequence("Ctrl+J"))
        next_held.triggered.connect(self.calls.select_next)
        checked = contact_menu.addAction("&Checked back")
        checked.setShortcut(QtGui.QKeySequence("Ctrl+K"))
        checked.triggered.connect(lambda: self.calls.check_back())
        transfer = contact_menu.addAction("&Transfer…")
        transfer.setShortcut(QtGui.QKeySequence("Ctrl+T"))
        transfer.triggered.connect(self.calls.open_transfer)
        interval = contact_menu.addAction("Check-back &interval…")
        interval.triggered.connect(self._ask_interval)
        message = contact_menu.addAction("Take a &message…")
        message.setShortcut(QtGui.QKeySequence("Ctrl+M"))
        message.triggered.connect(lambda: self.take_message())
        inbox = contact_menu.addAction("&Inbox")
        inbox.setShortcut(QtGui.QKeySequence("Ctrl+I"))
        inbox.triggered.connect(self.focus_inbox)
        acknowledge = contact_menu.addAction("Ac&knowledge message")
        acknowledge.setShortcut(QtGui.QKeySequence("Ctrl+Shift+K"))
        acknowledge.triggered.connect(self.inbox.acknowledge)
        called_back = contact_menu.addAction("Message &called back…")
        called_back.setShortcut(QtGui.QKeySequence("Ctrl+Shift+B"))
        called_back.triggered.connect(self.inbox.ask_called_back)
        visit = contact_menu.addAction("Schedule a &visit…")
        visit.setShortcut(QtGui.QKeySequence("Ctrl+Shift+V"))
        visit.triggered.connect(self.schedule_visit)
        contact_menu.addSeparator()
        note = contact_menu.addAction("Add &note")
        note.setShortcut(QtGui.QKeySequence("Ctrl+Shift+N"))
        note.triggered.connect(self.contacts.add_note)
        wrap = contact_menu.addAction("&Wrap up")
        wrap.setShortcut(QtGui.QKeySequence("Ctrl+Shift+W"))
        wrap.triggered.connect(self.contacts.wrap_up)

        sheet_menu = self.menuBar().addMenu("&Sheet")
        find = sheet_menu.addAction("&Find customer")
        find.setShortcut(QtGui.QKeySequence.StandardKey.Find)
        find.triggered.connect(self.focus_search)
        save = sheet_menu.addAction("&Save sheet")
        save.setShortcut(QtGui.QKeySequence.StandardKey.Save)
        save.triggered.connect(self.sheet.save)
        audit = sheet_menu.addAction("&Audit trail…")
        audit.setShortcut(QtGui.QKeySequence("Ctrl+Shift+T"))
        audit.triggered.connect(self.show_audit)

        training_menu = self.menuBar().addMenu("&Training")
        rehearse = training_menu.addAction("&Rehearse a scenario")
        rehearse.setShortcut(QtGui.QKeySequence("Ctrl+Shift+R"))
        rehearse.triggered.connect(lambda: self.open_training())
        progress = training_menu.addAction("&Progress")
        progress.setShortcut(QtGui.QKeySequence("Ctrl+Shift+G"))
        progress.triggered.connect(lambda: self.open_training(self.training_page.progress))
        answers = training_menu.addAction("&Standard answers")
        answers.triggered.connect(lambda: self.open_training(self.training_page.answers))

        help_menu = self.menuBar().addMenu("&Help")
        about = help_menu.addAction("&About AgentDesk")
        about.triggered.connect(self._about)

    def _unread(self, count: int) -> None:
        index = self.left_tabs.indexOf(self.inbox_view)
        self.left_tabs.setTabText(index, f"Inbox ({count})" if count else "Inbox")

    def _overdue(self, count: int) -> None:
        if self.escalation_view is not None:
            index = self.left_tabs.indexOf(self.escalation_view)
            self.left_tabs.setTabText(index, f"Overdue ({count})" if count else "Overdue")

    def open_training(self, tab: QtWidgets.QWidget | None = None) -> None:
        self.right.setCurrentWidget(self.training_page)
        self.training_page.setCurrentWidget(tab or self.training_view)
        if tab is None:
            self.training_view.scenarios.setFocus()

    def schedule_visit(self) -> None:
        """A visit to the customer of the contact in hand, or of the open sheet."""
        contact = self.contacts.current or {}
        customer_id = contact.get("customer_id") or self.sheet.customer_id
        if not customer_id:
            self.statusBar().showMessage("Open the customer's sheet first.", 5000)
            return
        store = self.session.store
        fault = "\n".join(str(n.get("text", "")) for n in contact.get("notes") or [])

        async def load() -> tuple[Customer | None, Directory | None]:
            customer = await self.session.runner.read(store.customer, str(customer_id))
            return customer, await load_directory(self.session)

        def show(found: tuple[Customer | None, Directory | None]) -> None:
            customer, directory = found
            if customer is None:
                return
            dialog = ScheduleVisitDialog(self, customer, directory, fault=fault)
            self._visit_dialog = dialog
            visit_id = new_visit_id()

            def accepted() -> None:
                fields = dialog.fields()
                if contact.get("id"):
                    fields["contact_id"] = str(contact["id"])
                write = self.session.runner.write(store.record_visit, visit_id, "create", fields)

                def kept(record: dict[str, Any]) -> None:
                    self.session.wake_sync()
                    self.visits.refresh()
                    self.statusBar().showMessage(
                        f"Visit scheduled for {record['engineer_name']}.", 6000
                    )

                def refused(error: BaseException) -> None:
                    if isinstance(error, ValidationFailed):
                        dialog.show_errors(error.errors)
                        dialog.open()
                        return
                    self.background.report(error)

                self.background.run(write, success=kept, failure=refused)

            dialog.accepted.connect(accepted)
            dialog.open()

        self.background.run(load(), name="schedule-visit", success=show)

    def focus_inbox(self) -> None:
        """The inbox, with the keyboard in its list (arrows move, Enter opens)."""
        self.left_tabs.setCurrentWidget(self.inbox_view)
        self.inbox_view.table.setFocus()
        message_id = self.inbox.selected_id()
        if message_id is not None:
            self.inbox.select(message_id)

    def take_message(self, refused: dict[str, Any] | None = None) -> None:
        """The message form, filled from the caller in hand when there is one (or from a
        message the server refused, to correct and send again)."""
        if self.message_form is not None and self.message_form.isVisible():
            self.message_form.raise_()
            self.message_form.activateWindow()
            return
        form = MessageForm(self, actor=self.session.actor, directory=None)
        self.message_form = form
        contact = self.contacts.current
        store = self.session.store

        async def prefill() -> tuple[Directory | None, Customer | None]:
            directory = await load_directory(self.session)
            customer = None
            if contact is not None and contact.get("customer_id"):
                customer = await self.session.runner.read(
                    store.customer, str(contact["customer_id"])
                )
            return directory, customer

        def filled(found: tuple[Directory | None, Customer | None]) -> None:
            directory, customer = found
            form.set_directory(directory)
            if refused is not None:
                form.fill_from_message(refused)
            else:
                form.fill_from(customer=customer, contact=contact)

        if refused is not None:
            contact = None
            form.replaces = str(refused["id"])
        form.send_requested.connect(lambda fields: self._send_message(form, fields))
        form.show()
        self.background.run(prefill(), name="message-form", success=filled)

    def _send_message(self, form: MessageForm, fields: dict[str, Any]) -> None:
        """Kept on this desk first (with its outbox row), then sent; the form closes only
        once the message is safe."""
        write = self.session.runner.write(
            self.session.store.record_message, form.message_id, "create", fields
        )

        def kept(record: dict[str, Any]) -> None:
            if form.replaces:
                # The corrected message is kept: the refused one goes.
                self.background.run(
                    self.session.runner.write(self.session.store.forget_message, form.replaces)
                )
            self.session.wake_sync()
            form.accept()
            self.statusBar().showMessage(
                f"Message for {record['for_name']} saved; it is delivered as soon as the "
                "server is reached.",
                8000,
            )
            if record.get("contact_id"):
                self.scripts.message_taken(str(record["contact_id"]))

        def refused(error: BaseException) -> None:
            if isinstance(error, ValidationFailed):
                form.refused(error)
                return
            form.send_button.setEnabled(True)
            self.background.report(error)

        self.background.run(write, success=kept, failure=refused)

    def show_audit(self) -> AuditDialog | None:
        """The open customer's audit trail, from the server."""
        customer_id = self.sheet.customer_id
        if customer_id is None or self.sheet.creating:
            self.statusBar().showMessage("Open a customer's sheet to see its audit trail", 5000)
            return None
        dialog = AuditDialog(self.sheet.view.name.text(), self)
        self.audit_dialog = dialog

        def failed(error: BaseException) -> None:
            if isinstance(error, Offline | ServerTrouble):
                dialog.show_problem(
                    "The audit trail is kept on the server, which cannot be reached now. "
                    "Try again when the desk is back online."
                )
            else:
                dialog.show_problem(describe(error))

        self.background.run(
            self.session.client.audit(customer_id),
            name="audit",
            success=dialog.show_entries,
            failure=failed,
        )
        dialog.open()
        return dialog

    def focus_search(self) -> None:
        self.search_view.query.setFocus()
        self.search_view.query.selectAll()

    def open_customer(self, customer_id: str) -> None:
        if customer_id == self.sheet.customer_id and not self.sheet.creating:
            self._show_sheet()
            return
        if self.sheet.confirm_leave(self):
            self.sheet.open(customer_id)

    def new_customer(self) -> None:
        if self.sheet.confirm_leave(self):
            self.sheet.new_sheet()
            self._show_sheet()

    def new_customer_for_caller(self, number: str) -> None:
        """Quick-create for an unknown caller: a new sheet with the number filled in."""
        if self.contacts.current is None or not self.sheet.confirm_leave(self):
            return
        self._caller_sheet_for = str(self.contacts.current["id"])
        self.sheet.new_sheet(phone=number)
        self._show_sheet()

    def _contact_changed(self, record: dict[str, Any] | None) -> None:
        # While the caller is not known yet, no other customer's sheet stays in view.
        if record is not None and not record.get("customer_id") and not self.sheet.dirty:
            self.right.setCurrentWidget(self.empty)

    def _show_sheet(self) -> None:
        self.right.setCurrentWidget(self.sheet_tabs)
        self.sheet_tabs.setCurrentWidget(self.sheet_view)

    def _sheet_opened(self, customer_id: str) -> None:
        self._show_sheet()
        self._load_history(customer_id)

    def _sheet_saved(self, customer_id: str) -> None:
        self.search.search_now()
        current = self.contacts.current
        if (
            self._caller_sheet_for is not None
            and current is not None
            and current["id"] == self._caller_sheet_for
        ):
            # The sheet made for an unknown caller belongs to their contact from now on.
            self._caller_sheet_for = None
            self.contacts.link(customer_id)
        self._load_history(customer_id)

    def _load_history(self, customer_id: str) -> None:
        store = self.session.store

        async def load() -> list[dict[str, Any]]:
            contacts = await self.session.runner.read(store.contacts_of, customer_id)
            visits = await self.session.runner.read(store.visits_of_customer, customer_id)
            merged = [*contacts, *(history_entry(v) for v in visits)]
            return sorted(merged, key=lambda r: str(r.get("offered_at")), reverse=True)

        def show(records: list[dict[str, Any]]) -> None:
            if self.sheet.customer_id == customer_id:
                self.history_view.set_records(records, tz=local_zone())

        self.background.run(load(), name="history-load", success=show)

    def _records_changed(self, ids: set[str]) -> None:
        self.training_desk.refresh()
        if self.sheet.customer_id is not None and not self.sheet.creating:
            self._load_history(self.sheet.customer_id)

    def _history_contact(self, contact_id: str) -> None:
        def take(record: dict[str, Any] | None) -> None:
            if record is None:
                self.visits.open(contact_id)  # a visit in the history opens as a visit
                return
            if not record.get("wrap_up") and self.contacts.current is None:
                self.contacts.take(record)

        self.background.run(
            self.session.runner.read(self.session.store.contact, contact_id), success=take
        )

    def log_contact(self) -> None:
        """Log an e-mail, instant message or walk-in; it becomes the contact in hand."""
        name = None
        if self.sheet.customer_id and not self.sheet.creating:
            name = self.sheet_view.name.text() or None
        dialog = LogContactDialog(self, customer_name=name)
        dialog.open()

        def accepted() -> None:
            customer_id = self.sheet.customer_id if dialog.uses_customer() else None
            self.contacts.log_contact(dialog.fields(), customer_id=customer_id)

        dialog.accepted.connect(accepted)
        self._log_dialog = dialog

    async def _published_scripts(self) -> None:
        """Scripts a supervisor published override the desk's own copies; the last ones
        fetched are kept in the local store for working offline."""
        store = self.session.store
        try:
            published = [s.model_dump() for s in await self.session.client.scripts()]
            await self.session.runner.write(store.set_meta, "scripts", json.dumps(published))
        except (Offline, ServerTrouble):
            cached = await self.session.runner.read(store.meta, "scripts")
            published = json.loads(cached) if cached else []
        taken = self.scripts.library.take_published(published)
        if taken:
            self.scripts.refresh()

    def _answer(self, record: dict[str, Any]) -> None:
        contact_id = str(record["id"])
        self.queue.forget(contact_id)
        self.calls.answer(record, failed=lambda: self.queue.unforget(contact_id))

    def _site_rules(self, site: SitePublic) -> None:
        """The site's check-back interval, unless this desk was set otherwise."""
        if site.organisation:
            self.scripts.organisation = site.organisation
            self.visits.organisation = site.organisation
            self.scripts.refresh()
        if QtCore.QSettings().value("check_back_interval_s") is None:
            self.calls.set_interval(site.check_back_interval_s)

    def _hold_menu(self) -> None:
        button = self.contact_pane.hold_button
        if button.isVisible() and button.isEnabled():
            button.showMenu()

    def _ask_interval(self) -> None:
        seconds, ok = QtWidgets.QInputDialog.getInt(
            self,
            "Check-back interval",
            "Check back on callers on hold every (seconds, 30–40):",
            int(self.calls.board.interval),
            30,
            40,
        )
        if not ok:
            return
        try:
            self.calls.set_interval(seconds)
        except ValidationFailed as failed:
            QtWidgets.QMessageBox.warning(self, "Check-back interval", str(failed))
            return
        QtCore.QSettings().setValue("check_back_interval_s", seconds)

    def bring_to_front(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def _about(self) -> None:
        QtWidgets.QMessageBox.about(
            self,
            "About AgentDesk",
            f"AgentDesk {__version__}\nThe help-desk workspace.\n\nServer: {self.session.server}",
        )

    def shutdown(self) -> None:
        """Stop timers and background jobs; the session is closed by its owner."""
        self.search.stop()
        self.queue.stop()
        self.contacts.stop()
        self.calls.stop()
        self.inbox.stop()
        if self.escalation_view is not None:
            self.escalations.stop()
        self.notifier.hide()
        self.background.cancel_all()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if not self.sheet.confirm_leave(self):
            event.ignore()
            return
        event.accept()
        self.closed.emit()
