"""Several calls at once: hold, check back, resume, and hand calls over.

The contact in hand lives in :class:`~ui.contact_pane.ContactController`; the calls on hold
live in the core's :class:`~agentdesk.domain.hold.HoldBoard`. This controller moves calls
between the two and records each step on the contact record (locally first, as always).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any

from agentdesk.domain.errors import ValidationFailed
from agentdesk.domain.hold import (
    HOLD_REASONS,
    RESUME_LINE,
    SECOND_CALL_LINE,
    Alert,
    HoldBoard,
    NotOnHold,
    OutOfOrder,
    check_interval,
)
from agentdesk.wire import Directory
from ui.background import Background
from ui.contact_pane import ContactController
from ui.desk_session import DeskSession
from ui.hold_board import HoldBoardView, HoldTimers
from ui.notifier import Notifier
from ui.qt import Qt, QtCore, QtWidgets
from ui.queue_panel import caller_text
from ui.transfer_dialog import TransferDialog, TransferOfferDialog

Clock = Callable[[], float]


class CallControl(QtCore.QObject):
    """Hold, resume, check-back and transfer for one desk."""

    def __init__(
        self,
        contacts: ContactController,
        view: HoldBoardView,
        session: DeskSession,
        background: Background,
        notifier: Notifier,
        *,
        interval_s: float = 30.0,
        monotonic: Clock = time.monotonic,
    ) -> None:
        super().__init__(view)
        self.contacts = contacts
        self.view = view
        self.session = session
        self.background = background
        self.notifier = notifier
        self.board = HoldBoard(monotonic, check_interval(interval_s))
        self.timers = HoldTimers(self.board, view)
        self.timers.alerted.connect(self._alerted)
        self.hold_ids: dict[str, str] = {}
        self.held_records: dict[str, dict[str, Any]] = {}
        self.offers_shown: set[str] = set()
        self.offer_dialogs: list[TransferOfferDialog] = []
        self.transfer_dialog: TransferDialog | None = None
        self.confirm_out_of_order: Callable[[str, str], bool] = self._ask_out_of_order
        pane = contacts.pane
        for key, words in HOLD_REASONS.items():
            action = pane.hold_menu.addAction(words)
            action.setData(key)
            action.triggered.connect(lambda _=False, k=key: self.hold(k))
        pane.transfer_button.clicked.connect(self.open_transfer)
        view.check_button.clicked.connect(lambda: self.check_back())
        view.resume_button.clicked.connect(lambda: self.resume())
        view.next_button.clicked.connect(self.select_next)
        view.table.itemDoubleClicked.connect(lambda _item: self.resume())
        session.records_changed.connect(self._records_changed)

    def restore(self) -> None:
        """Callers left on hold when the desk last closed are back on the board, with the
        time they have been holding; nobody stays on hold unseen."""
        store = self.session.store

        def put_back(records: list[dict[str, Any]]) -> None:
            now_wall = dt.datetime.now(dt.UTC)
            for record in records:
                open_holds = [h for h in record.get("holds") or [] if h.get("end") is None]
                contact_id = str(record["id"])
                if not open_holds or contact_id in self.hold_ids:
                    continue
                hold = open_holds[-1]
                reason = hold.get("reason") if hold.get("reason") in HOLD_REASONS else "check"
                call = self.board.hold(contact_id, caller_text(record), str(reason))
                checks = [hold["start"], *(c["at"] for c in hold.get("check_backs") or [])]
                held_for = (now_wall - dt.datetime.fromisoformat(hold["start"])).total_seconds()
                since_check = (now_wall - dt.datetime.fromisoformat(checks[-1])).total_seconds()
                call.held_at -= max(0.0, held_for)
                call.last_check_at -= max(0.0, since_check)
                self.hold_ids[contact_id] = str(hold["id"])
                self.held_records[contact_id] = record
            self.timers.refresh()

        self.background.run(
            self.session.runner.read(store.open_contacts_of, self.session.user.id),
            name="restore-holds",
            success=put_back,
        )

    # --- hold -----------------------------------------------------------------------------

    def hold(self, reason: str) -> None:
        """Put the contact in hand on hold, for ``reason`` (a key of HOLD_REASONS)."""
        record = self.contacts.current
        if record is None or record.get("state") != "answered" or record.get("wrap_up"):
            return
        contact_id = str(record["id"])
        hold_id = str(uuid.uuid4())
        self.board.hold(contact_id, caller_text(record), reason)
        self.hold_ids[contact_id] = hold_id
        self.held_records[contact_id] = record
        self.contacts.take(None)
        self.timers.refresh()
        self._say(HOLD_REASONS[reason])

        def refused(error: BaseException) -> None:
            # The hold could not be recorded (say the call ended meanwhile): the call comes
            # back to hand rather than vanishing from both the hand and the board.
            self.board.hung_up(contact_id)
            self.hold_ids.pop(contact_id, None)
            self.held_records.pop(contact_id, None)
            self.timers.refresh()
            if self.contacts.current is None:
                self.contacts.take(record)
            self._refused(error)

        self.contacts.record_step(
            contact_id,
            "hold",
            {"id": hold_id, "reason": reason, "at": self._now_iso()},
            success=lambda _r: None,
            failure=refused,
            any_contact=True,
        )

    def check_back(self, contact_id: str | None = None) -> None:
        """The agent checked back on a held caller, who keeps holding."""
        target = contact_id or self._alerting_or_selected()
        if target is None or target not in self.hold_ids:
            return
        try:
            check = self.board.confirm_check_back(target)
        except NotOnHold:
            return
        self.timers.refresh()
        self.contacts.record_step(
            target,
            "check_back",
            {"id": self.hold_ids[target], "at": self._now_iso(), "late_s": round(check.late_s, 1)},
            success=lambda _r: None,
            failure=self._refused,
            any_contact=True,
        )

    def resume(self, contact_id: str | None = None) -> None:
        """Take a caller off hold (the selected one, else the next in line)."""
        target = contact_id or self.view.selected_id()
        if target is None:
            upcoming = self.board.next_to_serve()
            target = upcoming.contact_id if upcoming else None
        if target is None or target not in self.hold_ids:
            return
        try:
            self.board.resume(target)
        except OutOfOrder as early:
            first = self.held_records.get(early.waiting_longer[0], {})
            if not self.confirm_out_of_order(
                caller_text(first) if first else "another caller",
                caller_text(self.held_records.get(target, {})),
            ):
                return
            self.board.resume(target, out_of_order_ok=True)
        except NotOnHold:
            return
        self._switch_away()
        hold_id = self.hold_ids.pop(target)
        record = self.held_records.pop(target)
        self.timers.refresh()
        self.contacts.take(record)
        if record.get("customer_id"):
            # Back with this caller: their sheet is in front again.
            self.contacts.open_customer.emit(str(record["customer_id"]))
        self._say(RESUME_LINE)
        offered = [t for t in record.get("transfers") or [] if t.get("state") == "offered"]
        for transfer in offered:
            # Taken back before the colleague answered: the offer is withdrawn.
            self.contacts.record_step(
                target,
                "withdraw_transfer",
                {"id": transfer["id"], "at": self._now_iso()},
                success=lambda _r: None,
                failure=self._refused,
                any_contact=True,
            )
        self.contacts.record_step(
            target,
            "resume",
            {"id": hold_id, "at": self._now_iso(), "how": "resumed"},
            success=lambda r: self.contacts.take(r),
            failure=self._refused,
        )

    def select_next(self) -> None:
        upcoming = self.board.next_to_serve()
        if upcoming is not None:
            self.view.select(upcoming.contact_id)
            self.view.table.setFocus()

    def answer(self, record: dict[str, Any], *, failed: Callable[[], None] | None = None) -> None:
        """Answering another call puts the one in hand on hold first."""
        if str(record["id"]) in self.hold_ids:
            self.resume(str(record["id"]))
            return
        if self._switch_away():
            self._say(SECOND_CALL_LINE)
        self.contacts.answer(record, failed=failed)

    def _switch_away(self) -> bool:
        current = self.contacts.current
        if current is None or current.get("state") != "answered" or current.get("wrap_up"):
            return False
        self.hold("another-call")
        return True

    # --- transfer ---------------------------------------------------------------------------

    def open_transfer(self) -> None:
        record = self.contacts.current
        if record is None:
            return

        def show(directory: Directory) -> None:
            if self.contacts.current is None or self.contacts.current["id"] != record["id"]:
                return
            if self.transfer_dialog is not None and self.transfer_dialog.isVisible():
                self.transfer_dialog.raise_()
                return
            dialog = TransferDialog(
                self.view.window(), directory, record, me=self.session.user.username
            )
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.submitted.connect(lambda: self.transfer(dialog.fields(), dialog=dialog))
            self.transfer_dialog = dialog
            dialog.open()

        self.background.run(self.session.client.directory(), name="directory", success=show)

    def transfer(self, fields: dict[str, Any], *, dialog: TransferDialog | None = None) -> None:
        """Offer (warm) or hand (blind) the call in hand to a colleague or a team. The dialog
        stays open (with what was typed) until the step is recorded."""
        record = self.contacts.current
        if record is None:
            return
        contact_id = str(record["id"])
        step = {**fields, "id": str(uuid.uuid4()), "at": self._now_iso()}

        def done(saved: dict[str, Any]) -> None:
            if dialog is not None:
                dialog.accept()
            if fields.get("mode") == "blind":
                self.contacts.take(None)
                self.notifier.notify(
                    "Call transferred", f"{caller_text(saved)} → {fields['to_name']}", sound=False
                )
            else:
                # The caller holds while the colleague reads the announcement.
                self.hold("colleague")
                self.notifier.window.statusBar().showMessage(
                    f"Waiting for {fields['to_name']} to accept…", 8000
                )

        def refused(error: BaseException) -> None:
            if dialog is not None and isinstance(error, ValidationFailed):
                dialog.show_error("; ".join(f"{e.field}: {e.message}" for e in error.errors))
                return
            self._refused(error)

        self.contacts.record_step(contact_id, "transfer", step, success=done, failure=refused)

    def _check_offers(self) -> None:
        user = self.session.user
        store = self.session.store

        def show(offers: list[dict[str, Any]]) -> None:
            live = {str(r["transfers"][-1]["id"]) for r in offers}
            for stale in [d for d in self.offer_dialogs if d.transfer_id not in live]:
                # Answered by a teammate, or withdrawn: the question is gone.
                self.offer_dialogs.remove(stale)
                stale.done(0)
            for record in offers:
                transfer_id = str(record["transfers"][-1]["id"])
                if transfer_id in self.offers_shown:
                    continue
                self.offers_shown.add(transfer_id)
                dialog = TransferOfferDialog(self.view.window(), record)
                # Only the buttons answer: closing the window leaves the offer open.
                dialog.accept_button.clicked.connect(
                    lambda _=False, d=dialog: self.answer_offer(d, accepted=True)
                )
                dialog.decline_button.clicked.connect(
                    lambda _=False, d=dialog: self.answer_offer(d, accepted=False)
                )
                self.offer_dialogs.append(dialog)
                dialog.open()
                transfer = record["transfers"][-1]
                self.notifier.notify(
                    f"Transfer from {transfer['by']}", caller_text(record), sound=True
                )

        self.background.run(
            self.session.runner.read(
                store.transfer_offers_for, user.username, user.department or ""
            ),
            name="transfer-offers",
            success=show,
        )

    def answer_offer(self, dialog: TransferOfferDialog, *, accepted: bool) -> None:
        if dialog in self.offer_dialogs:
            self.offer_dialogs.remove(dialog)
        dialog.done(0)

        def done(record: dict[str, Any]) -> None:
            if accepted:
                # Only now, with the call ours, does the caller in hand go on hold.
                self._switch_away()
                self.contacts.take(record)
                self.contacts.screen_pop(record)

        self.contacts.record_step(
            dialog.contact_id,
            "transfer_answer",
            {"id": dialog.transfer_id, "accepted": accepted, "at": self._now_iso()},
            success=done,
            failure=self._refused,
            any_contact=True,
        )

    # --- what the server says happened ------------------------------------------------------

    def _records_changed(self, ids: set[str]) -> None:
        self._check_offers()
        current = self.contacts.current
        if current is not None and current["id"] in ids:
            self._check_hand(str(current["id"]))
        watched = [cid for cid in self.hold_ids if cid in ids]
        if not watched:
            return
        store = self.session.store

        async def load() -> list[dict[str, Any]]:
            found = [await self.session.runner.read(store.contact, cid) for cid in watched]
            return [r for r in found if r is not None]

        self.background.run(load(), success=self._settle_held)

    def _settle_held(self, records: list[dict[str, Any]]) -> None:
        """A held caller who hung up, or whose transfer a colleague answered."""
        for record in records:
            contact_id = str(record["id"])
            if contact_id not in self.hold_ids:
                continue
            self.held_records[contact_id] = record
            transfers = record.get("transfers") or []
            last = transfers[-1] if transfers else {}
            if record.get("state") != "answered":
                self._end_hold(contact_id, "hung up")
                self.notifier.notify("Caller hung up while on hold", caller_text(record))
                if self.contacts.current is None:
                    self.contacts.take(record)  # to wrap it up
            elif last.get("state") == "accepted" and last.get("by_user") == (
                self.session.user.username
            ):
                self._end_hold(contact_id, "transferred")
                self.notifier.notify(
                    f"{last.get('answered_by')} took the call", caller_text(record), sound=False
                )
            elif (
                last.get("state") == "declined"
                and last.get("by_user") == self.session.user.username
                and last.get("id") not in self.offers_shown
            ):
                self.offers_shown.add(str(last.get("id")))
                self.notifier.notify(
                    f"{last.get('answered_by')} declined the transfer",
                    f"{caller_text(record)} is still on hold with you",
                )

    def _check_hand(self, contact_id: str) -> None:
        """A colleague took over the call in hand (a transfer accepted meanwhile)."""

        def check(record: dict[str, Any] | None) -> None:
            if record is None or not self.contacts.in_hand(contact_id):
                return
            owner = record.get("owner_id")
            if owner and owner != self.session.user.id:
                self.contacts.take(None)
                self.notifier.notify(
                    f"{record.get('owner_name')} has the call now", caller_text(record)
                )

        self.background.run(
            self.session.runner.read(self.session.store.contact, contact_id), success=check
        )

    def _end_hold(self, contact_id: str, how: str) -> None:
        if how == "transferred":
            self.board.transferred(contact_id)
        else:
            self.board.hung_up(contact_id)
        hold_id = self.hold_ids.pop(contact_id)
        self.held_records.pop(contact_id, None)
        self.timers.refresh()
        self.contacts.record_step(
            contact_id,
            "resume",
            {"id": hold_id, "at": self._now_iso(), "how": how},
            success=lambda _r: None,
            failure=self._refused,
            any_contact=True,
        )

    # --- plumbing ---------------------------------------------------------------------------

    def set_interval(self, seconds: object) -> None:
        self.board.set_interval(seconds)
        self.timers.refresh()

    def _alerted(self, alert: Alert) -> None:
        caller = caller_text(self.held_records.get(alert.contact_id, {}))
        if alert.escalated:
            self.notifier.notify("Caller still waiting on hold", caller, loud=True)
        else:
            self.notifier.notify("Check back on the caller on hold", caller)

    def _alerting_or_selected(self) -> str | None:
        alerts = self.board.alerts()
        return alerts[0].contact_id if alerts else self.view.selected_id()

    def _ask_out_of_order(self, first: str, chosen: str) -> bool:
        answer = QtWidgets.QMessageBox.question(
            self.view.window(),
            "Serve in order",
            f"{first} has been on hold longer. Resume {chosen} first anyway?",
        )
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    def _say(self, words: str) -> None:
        self.notifier.window.statusBar().showMessage(f"Say: “{words}”", 10_000)

    def _refused(self, error: BaseException) -> None:
        if isinstance(error, ValidationFailed):
            problems = "; ".join(f"{e.field}: {e.message}" for e in error.errors)
            self.notifier.notify("Not recorded", problems, sound=False)
            return
        self.background.report(error)

    def _now_iso(self) -> str:
        return dt.datetime.now(dt.UTC).isoformat()

    def stop(self) -> None:
        self.timers.stop()
