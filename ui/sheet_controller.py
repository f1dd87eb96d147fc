"""Behaviour of the information sheet: open, edit, validate, save locally, show conflicts."""

from __future__ import annotations

import uuid
from typing import Any

from agentdesk.domain.customers import Customer, format_phone
from agentdesk.domain.errors import ValidationFailed
from agentdesk.store.local import OutboxIssue
from ui.background import Background
from ui.desk_session import DeskSession
from ui.qt import QtCore, QtWidgets
from ui.sheet_view import SheetView


class SheetController(QtCore.QObject):
    """Drives one :class:`SheetView` against the local store.

    Signals:
        opened(str): a sheet was opened (its customer id).
        saved(str): an edit was committed to the local store.
    """

    opened = QtCore.Signal(str)
    saved = QtCore.Signal(str)

    def __init__(self, view: SheetView, session: DeskSession, background: Background) -> None:
        super().__init__(view)
        self.view = view
        self.session = session
        self.background = background
        self.customer_id: str | None = None
        self.creating = False
        self.dirty = False
        self._shown: dict[str, Any] = {}

        view.save_button.clicked.connect(self.save)
        view.revert_button.clicked.connect(self.revert)
        view.add_device_button.clicked.connect(self._add_device)
        view.edited.connect(self._mark_dirty)
        view.banner.keep_mine.connect(lambda mid: self._resolve(mid, keep_mine=True))
        view.banner.take_theirs.connect(lambda mid: self._resolve(mid, keep_mine=False))
        session.records_changed.connect(self._records_changed)
        self._set_buttons()

    # --- opening --------------------------------------------------------------------------

    def open(self, customer_id: str) -> None:
        """Load a sheet from the local store (off the GUI thread) and show it."""
        self.background.run(self._load(customer_id), name="sheet-load", success=self._show)

    async def _load(self, customer_id: str) -> tuple[Customer | None, list[OutboxIssue]]:
        store = self.session.store

        def load() -> tuple[Customer | None, list[OutboxIssue]]:
            # One trip to the store's reader: a screen pop waits for nothing else.
            return store.customer(customer_id), store.issues_for(customer_id)

        return await self.session.runner.read(load)

    def _show(self, loaded: tuple[Customer | None, list[OutboxIssue]]) -> None:
        customer, issues = loaded
        if customer is None:
            self.view.save_state.setText("This sheet is no longer available.")
            return
        self.customer_id = customer.id
        self.creating = False
        self._shown = customer.to_dict()
        self.view.set_values(self._shown)
        self.view.subtitle.setText(self._subtitle(customer))
        self.view.banner.show_issues(issues)
        self.view.save_state.setText("")
        self.dirty = False
        self._set_buttons()
        self.opened.emit(customer.id)

    def _subtitle(self, customer: Customer) -> str:
        parts = [customer.organisation, customer.department]
        parts.append(f"version {customer.version}" if customer.version else "not yet on the server")
        return " · ".join(p for p in parts if p)

    def new_sheet(self, *, phone: str = "") -> None:
        """An empty sheet in the agent's department, saved on the first Save; ``phone``
        fills in the first number (a quick-create for an unknown caller)."""
        self.customer_id = str(uuid.uuid4())
        self.creating = True
        self._shown = {
            "id": self.customer_id,
            "name": "",
            "tier": "B",
            "language": "en",
            "timezone": "UTC",
            "department": self.session.user.department or "",
            "phones": [],
            "devices": [],
        }
        self.view.set_values(self._shown)
        self.view.phones.add_row(number=phone)
        self.view.subtitle.setText(
            f"New sheet for the caller on {format_phone(phone)} · not saved yet"
            if phone
            else "New sheet · not saved yet"
        )
        self.view.banner.show_issues([])
        self.view.save_state.setText("")
        self.dirty = True
        self._set_buttons()
        self.view.name.setFocus()

    # --- editing --------------------------------------------------------------------------

    def _mark_dirty(self) -> None:
        if not self.dirty:
            self.dirty = True
            self.view.save_state.setText("Unsaved changes")
            self._set_buttons()

    def _set_buttons(self) -> None:
        has_sheet = self.customer_id is not None
        self.view.save_button.setEnabled(has_sheet and self.dirty)
        self.view.revert_button.setEnabled(has_sheet and self.dirty and not self.creating)
        self.view.add_device_button.setEnabled(has_sheet)

    def _add_device(self) -> None:
        form = self.view.add_device({"id": str(uuid.uuid4())})
        self.view.devices.setCurrentWidget(form)
        form.slots["computer_name"].editor.setFocus()
        self._mark_dirty()

    def revert(self) -> None:
        if self.customer_id is not None and not self.creating:
            self.open(self.customer_id)

    # --- saving ---------------------------------------------------------------------------

    def save(self) -> None:
        """Validate and commit locally; the typed text stays on screen if it is refused."""
        if self.customer_id is None or not self.dirty:
            return
        values = self.view.values()
        self.view.save_button.setEnabled(False)
        self.view.save_state.setText("Saving…")
        self.background.run(
            self._save(self.customer_id, values, creating=self.creating),
            name="sheet-save",
            success=self._saved,
            failure=self._save_failed,
        )

    async def _save(self, customer_id: str, values: dict[str, Any], *, creating: bool) -> Customer:
        store = self.session.store
        if creating:
            data = {**values, "id": customer_id, "department": self._shown.get("department", "")}
            return await self.session.runner.write(store.create_customer, data)
        return await self.session.runner.write(store.save_edit, customer_id, values)

    def _saved(self, customer: Customer) -> None:
        self.customer_id = customer.id
        self.creating = False
        self.dirty = False
        self._shown = customer.to_dict()
        self.view.set_values(self._shown)
        self.view.subtitle.setText(self._subtitle(customer))
        self.view.save_state.setText("Saved on this computer ✓")
        self._set_buttons()
        self.session.wake_sync()
        self.saved.emit(customer.id)

    def _save_failed(self, error: BaseException) -> None:
        self._set_buttons()
        if isinstance(error, ValidationFailed):
            self.view.show_errors(error.by_field())
            count = len(error.errors)
            self.view.save_state.setText(
                f"Not saved: {count} field{'s' if count != 1 else ''} to fix"
            )
            return
        self.view.save_state.setText("Not saved")
        self.background.report(error)

    # --- sync -----------------------------------------------------------------------------

    def _records_changed(self, ids: set[str]) -> None:
        if self.customer_id is None or self.customer_id not in ids:
            return
        if self.dirty:
            # Never replace what the agent is typing; say that the sheet moved on.
            self.view.save_state.setText(
                "Updated on the server meanwhile; your unsaved changes are kept"
            )
            return
        self.open(self.customer_id)

    def _resolve(self, mutation_id: str, *, keep_mine: bool) -> None:
        async def resolve() -> None:
            store = self.session.store
            await self.session.runner.write(store.resolve, mutation_id, keep_mine=keep_mine)

        def done(_: None) -> None:
            self.session.wake_sync()
            if self.customer_id is not None:
                self.open(self.customer_id)

        self.background.run(resolve(), success=done)

    def confirm_leave(self, parent: QtWidgets.QWidget) -> bool:
        """Ask before leaving a sheet with unsaved changes; True when it is fine to go."""
        if not self.dirty:
            return True
        answer = QtWidgets.QMessageBox.question(
            parent,
            "Unsaved changes",
            "This sheet has changes that are not saved. Save them first?",
            QtWidgets.QMessageBox.StandardButton.Save
            | QtWidgets.QMessageBox.StandardButton.Discard
            | QtWidgets.QMessageBox.StandardButton.Cancel,
        )
        if answer == QtWidgets.QMessageBox.StandardButton.Save:
            self.save()
            return False
        return answer == QtWidgets.QMessageBox.StandardButton.Discard
