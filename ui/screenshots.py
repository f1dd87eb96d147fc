"""``make screenshots``: the main screens, rendered offscreen with the demo data.

Starts the embedded server on a throw-away copy of the demo database, signs in as the demo
agent, and saves one PNG per screen into the folder given on the command line.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ui.main_window import MainWindow
    from ui.qt import QtWidgets

SIZE = (1600, 900)


async def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _settle() -> None:
    """Let layouts and repaints finish before a grab."""
    for _ in range(5):
        await asyncio.sleep(0.05)


#: Calls for the incoming-contact panel: (number as the phone system sends it, seconds ago).
CALLS = (
    ("+4722894117", 14.0),  # Bjørn Ødegård, tier A, past the third ring
    ("+8613912345678", 3.0),  # 王伟, tier A
    ("+390264441000", 7.0),  # a hospital switchboard two customers share
    ("+4755567120", 18.0),  # Åse Kværnes, tier B
    ("+4740123987", 1.0),  # nobody's number
)


async def ring(server: str, token: str) -> list[dict[str, object]]:
    """Post the calls above through the telephony ingress, as a phone system would."""
    import datetime as dt
    import uuid

    import httpx

    now = dt.datetime.now(dt.UTC)
    contacts = []
    async with httpx.AsyncClient(
        base_url=server, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        for number, ago in CALLS:
            response = await http.post(
                "/api/v1/telephony/events",
                json={
                    "event": "ringing",
                    "call_id": uuid.uuid4().hex,
                    "from": number,
                    "to": "+4721000000",
                    "at": (now - dt.timedelta(seconds=ago)).isoformat(),
                },
            )
            response.raise_for_status()
            contacts.append(response.json()["contact"])
    return contacts


async def show_coach_hint(window: MainWindow) -> None:
    """What hovering over an underlined phrase shows, drawn where the tooltip appears (an
    offscreen grab does not include real tooltip windows)."""
    from ui.coach_edit import tooltip
    from ui.qt import QtGui, QtWidgets

    pane = window.contacts.pane
    editor = pane.note_text
    finding = pane.note_coach.findings()[0]
    cursor = QtGui.QTextCursor(editor.document())
    cursor.setPosition(finding.end)
    spot = editor.viewport().mapTo(window, editor.cursorRect(cursor).bottomLeft())
    hint = QtWidgets.QLabel(tooltip(finding), window)
    hint.setWordWrap(True)
    hint.setFixedWidth(330)
    hint.setStyleSheet(
        "background: #ffffe1; color: #101828; border: 1px solid #98a2b3; padding: 6px;"
    )
    hint.adjustSize()
    hint.move(max(0, spot.x() - 200), spot.y() + 6)
    hint.show()
    hint.raise_()
    await _settle()
    window.setProperty("coach_hint", hint)


async def capture(out: Path, server: str, token: str) -> list[Path]:
    from agentdesk.credentials import TokenVault
    from agentdesk.demo import DEMO_AGENT
    from agentdesk.sync.engine import SyncState
    from ui.background import Background
    from ui.desk_session import SignIn, sign_in
    from ui.login_dialog import LoginController, LoginView
    from ui.main_window import MainWindow
    from ui.qt import Qt

    saved: list[Path] = []

    def grab(widget: object, name: str) -> None:
        path = out / f"{name}.png"
        widget.grab().save(str(path))  # type: ignore[attr-defined]
        saved.append(path)

    vault = TokenVault()
    login = LoginView()
    controller = LoginController(login, vault, Background(login))
    controller.prefill(server, DEMO_AGENT.username)
    login.password.setText(DEMO_AGENT.password)
    login.remember.setChecked(True)
    login.show()
    await _settle()
    grab(login, "01-sign-in")
    login.close()

    session = await sign_in(
        SignIn(server, DEMO_AGENT.username, DEMO_AGENT.password, remember=False), vault
    )
    window = MainWindow(session)
    window.background.show_dialogs = False
    window.resize(*SIZE)
    window.show()
    session.start()
    await wait_for(lambda: session.status.state is SyncState.UP_TO_DATE, "the first sync")
    window.search.search_now()
    await wait_for(lambda: window.search_view.results.topLevelItemCount() > 20, "results")
    await _settle()
    grab(window, "02-customers")

    window.search_view.query.setText("王")
    await wait_for(
        lambda: 0 < window.search_view.results.topLevelItemCount() < 20, "Chinese results"
    )
    target = next(
        s for s in await session.runner.read(session.store.search, "王伟") if s.name == "王伟"
    )
    window.open_customer(target.id)
    await wait_for(lambda: window.sheet.customer_id == target.id, "the sheet")
    await _settle()
    grab(window, "03-sheet-chinese")

    window.search_view.query.setText("ødegård")

    def first_result() -> str:
        item = window.search_view.results.topLevelItem(0)
        return item.text(0) if item is not None else ""

    await wait_for(lambda: "Ødegård" in first_result(), "the Norwegian result")
    norwegian = next(s for s in await session.runner.read(session.store.search, "ødegård"))
    window.open_customer(norwegian.id)
    await wait_for(lambda: window.sheet.customer_id == norwegian.id, "the Norwegian sheet")
    await _settle()
    grab(window, "04-sheet-norwegian")

    view = window.sheet_view
    # An edit, synced, then the sheet's audit trail from the server
    view.location.setText("Trondheimsveien 235, bygg 3, 2. etasje")
    view.location.textEdited.emit("Trondheimsveien 235, bygg 3, 2. etasje")
    window.sheet.save()
    await wait_for(lambda: "Saved" in view.save_state.text(), "the edit saved")
    session.wake_sync()
    await wait_for(
        lambda: session.status.state is SyncState.UP_TO_DATE and session.status.pending == 0,
        "the edit synced",
    )
    dialog = window.show_audit()
    assert dialog is not None
    await wait_for(lambda: dialog.table.rowCount() >= 2, "the audit trail")
    await _settle()
    grab(dialog, "28-audit-trail")
    dialog.close()
    view.phones.rows[0].number.setText("6552 9988")
    view.phones.rows[0].number.textEdited.emit("6552 9988")
    view.name.setText("")
    view.name.textEdited.emit("")
    ips = view.device_forms[0].slots["ip_addresses"].editor
    ips.setPlainText("10.20.1.300")  # type: ignore[attr-defined]
    window.sheet.save()
    await wait_for(lambda: "fix" in view.save_state.text(), "the refusal")
    await _settle()
    grab(window, "05-invalid-edit")

    window.sheet.dirty = False  # leave the refused edit unsaved, as an agent would revert it
    window.sheet.revert()
    window.search_view.query.setText("")
    await ring(server, token)
    await wait_for(lambda: len(window.queue_view.ids()) == len(CALLS), "the waiting calls")
    await _settle()
    grab(window, "06-incoming-contacts")

    # Answer the first in line (tier A, longest waiting): the caller's sheet pops.
    first = window.queue_view.ids()[0]
    window.queue.answer_selected()
    await wait_for(lambda: window.contacts.current is not None, "the answer")
    await wait_for(lambda: window.sheet.customer_id is not None, "the screen pop")
    window.contacts.pane.note_text.setPlainText(
        "Kan ikke logge inn på VPN etter passordbytte. Tilbakestilt MFA-token."
    )
    window.contacts.add_note()
    await wait_for(lambda: window.contacts.pane.notes.count() == 1, "the note")
    window.contacts.pane.promise_text.setText("Tekniker ringer tilbake og bekrefter tilgang")
    window.contacts.add_promise()
    await wait_for(lambda: bool((window.contacts.current or {}).get("promises")), "the promise")
    window.contacts.end()
    await wait_for(lambda: (window.contacts.current or {}).get("state") == "ended", "the end")
    window.contacts.clock = lambda: time.time() + 47  # some after-call work has passed
    window.contacts.pane.category.setCurrentIndex(3)
    # A note being typed: the phrase coach underlines the weak phrasing (Norwegian caller).
    window.contacts.pane.note_text.setPlainText(
        "Vent litt, jeg vet ikke ennå om tokenet er synkronisert."
    )
    await asyncio.sleep(1.1)
    await _settle()
    grab(window, "07-screen-pop-known-caller")
    await show_coach_hint(window)
    grab(window, "13-coach-suggestion")
    window.property("coach_hint").deleteLater()
    window.contacts.pane.note_text.clear()
    assert first == (window.contacts.current or {}).get("id")
    window.contacts.clock = time.time
    window.contacts.pane.outcome.setCurrentIndex(2)
    window.contacts.wrap_up()
    await wait_for(lambda: window.contacts.current is None, "the wrap-up")

    # The shared switchboard: a short pick list.
    shared = next(r["id"] for r in window.queue.records.values() if r.get("candidates"))
    window.queue.answer_requested.emit(window.queue.records[shared])
    await wait_for(lambda: window.contacts.pane.candidates.count() == 2, "the pick list")
    await _settle()
    grab(window, "08-screen-pop-shared-number")
    picked = window.contacts.pane.candidates.currentItem().data(Qt.ItemDataRole.UserRole)
    window.contacts.pick_candidate()
    await wait_for(lambda: window.sheet.customer_id == picked, "the picked sheet")

    # A stranger: a new sheet with the number filled in.
    stranger = next(
        r["id"]
        for r in window.queue.records.values()
        if not r.get("customer_id") and not r.get("candidates")
    )
    window.contacts.take(None)
    window.queue.answer_requested.emit(window.queue.records[stranger])
    await wait_for(lambda: window.sheet.creating, "the quick-create sheet")
    await _settle()
    grab(window, "09-screen-pop-unknown-caller")
    window.sheet.dirty = False
    window.sheet.revert()

    # Several calls at once: three callers on hold, the first of them left too long.
    clock_now = [time.monotonic()]
    window.calls.board.clock = lambda: clock_now[0]
    window.calls.timers.clock = window.calls.board.clock
    window.contacts.take(None)
    await ring(server, token)
    await wait_for(lambda: len(window.queue_view.ids()) >= 3, "new waiting calls")
    held_reasons = ("check", "find-out", "second-call")
    for reason in held_reasons:
        next_id = window.queue_view.ids()[0]
        window.queue.answer_requested.emit(window.queue.records[next_id])
        await wait_for(
            lambda t=next_id: (window.contacts.current or {}).get("id") == t,  # type: ignore[misc]
            "the answer",
        )
        window.calls.hold(reason)
        clock_now[0] += 24
    window.calls.timers.refresh()
    await asyncio.sleep(0.6)
    await _settle()
    grab(window, "10-hold-board")

    # The script panel follows the caller's language: 王伟 (zh_CN) back from hold.
    wang = next(c.contact_id for c in window.calls.board.held() if "王" in c.caller)
    window.calls.confirm_out_of_order = lambda _first, _chosen: True
    window.calls.resume(wang)
    await wait_for(lambda: window.script_panel.language.currentData() == "zh", "the script")
    window.script_panel.next_button.click()
    window.script_panel.next_button.click()
    await _settle()
    grab(window, "11-script-panel-chinese")
    window.script_panel.language.setCurrentIndex(window.script_panel.language.findData("en"))
    window.script_panel.next_button.click()
    await _settle()
    grab(window, "12-script-panel-english")

    # An e-mail answered in writing: the reply box, under the coach.
    window.contacts.take(None)
    window.contacts.log_contact(
        {"channel": "email", "caller_name": "Ingrid Berg", "caller_address": "ingrid@fjord.no"}
    )
    await wait_for(lambda: window.contacts.pane.reply_box.isVisible(), "the reply box")
    window.contacts.pane.reply_text.setPlainText(
        "Dear Ingrid,\nThank you for your e-mail. What I will do is reset the print queue; "
        "we will confirm ASAP.\nKind regards"
    )
    await asyncio.sleep(1.1)
    await _settle()
    grab(window, "14-email-reply-coached")

    # A message for 李伟 (who works from Shanghai), from a known Norwegian caller.
    await message_screens(window, grab)
    window.close()
    await session.close()

    # 李伟's desk: the message has arrived, unread, with its callback in Shanghai time.
    from agentdesk.demo import DEMO_USERS

    li = next(u for u in DEMO_USERS if u.username == "li.wei")
    other = await sign_in(SignIn(server, li.username, li.password, remember=False), vault)
    inbox_window = MainWindow(other)
    inbox_window.background.show_dialogs = False
    inbox_window.inbox.zone = "Asia/Shanghai"
    inbox_window.resize(*SIZE)
    inbox_window.show()
    other.start()
    await wait_for(lambda: inbox_window.inbox.unread >= 1, "the message in 李伟's inbox")
    inbox_window.left_tabs.setCurrentWidget(inbox_window.inbox_view)
    inbox_window.inbox.select(inbox_window.inbox_view.ids()[0])
    await _settle()
    grab(inbox_window, "17-inbox")
    inbox_window.close()
    await other.close()

    await visit_screens(server, vault, out, grab)
    await training_screens(server, vault, grab)
    return saved


async def demo_window(server: str, vault: object, username: str) -> MainWindow:
    """A demo user's desk, signed in, shown and after its first sync."""
    from agentdesk.demo import DEMO_USERS
    from agentdesk.sync.engine import SyncState
    from ui.desk_session import SignIn, sign_in
    from ui.main_window import MainWindow

    user = next(u for u in DEMO_USERS if u.username == username)
    session = await sign_in(SignIn(server, user.username, user.password, remember=False), vault)  # type: ignore[arg-type]
    window = MainWindow(session)
    window.background.show_dialogs = False
    window.resize(*SIZE)
    window.show()
    session.start()
    await wait_for(lambda: session.status.state is SyncState.UP_TO_DATE, "the first sync")
    return window


async def training_screens(server: str, vault: object, grab: Callable[[object, str], None]) -> None:
    """Tom, a trainee, rehearsing the screening call (mid-call, the feedback on a reply, the
    result) and his progress; Anna reviewing it and editing a standard answer."""

    window = await demo_window(server, vault, "tom")
    training, view = window.training, window.training_view
    await wait_for(lambda: view.assigned.count() > 0, "Tom's assignment")
    training.choose("take-message", "en")
    view.start_button.click()
    view.reply.setPlainText("May I say who is calling?")
    view.send_button.click()
    view.reply.setPlainText("Thank you. Ola is in a meeting; could you")
    await asyncio.sleep(2.2)  # the reply timer has ticked
    await _settle()
    grab(window, "22-training-mid-call")
    view.reply.setPlainText("Thank you. Ola is in a meeting; could you call back later?")
    view.send_button.click()
    view.reply.setPlainText("Let me read that back: Ola will call you back ASAP.")
    await _settle()
    grab(window, "23-training-feedback")
    view.send_button.click()
    await wait_for(lambda: "saved on this desk" in view.saved.text(), "the attempt kept")
    await _settle()
    grab(window, "24-training-result")
    window.open_training(window.training_page.progress)
    await wait_for(
        lambda: window.training_page.progress.attempts.rowCount() >= 13, "Tom's attempts"
    )
    window.training_page.progress.attempts.selectRow(0)
    await _settle()
    grab(window, "25-training-progress")
    window.close()
    await window.session.close()

    window = await demo_window(server, vault, "anna")
    desk = window.training_desk
    window.open_training(window.training_page.progress)
    await wait_for(lambda: desk.counts.get("tom", 0) >= 13, "Tom's attempts")
    desk.show_trainee("tom")
    progress = window.training_page.progress
    await wait_for(lambda: progress.attempts.rowCount() >= 13, "Tom's attempts shown")
    for row in range(progress.attempts.rowCount()):
        reviews = progress.attempts.item(row, 5)
        if reviews is not None and reviews.text() != "0":
            progress.attempts.selectRow(row)
    await _settle()
    grab(window, "26-supervisor-progress")
    answers = window.training_page.answers
    window.open_training(answers)
    desk.choose_answer("complaint-response-time", "en", 0)
    answers.editor.setPlainText("The ticket was late because we were short-staffed this week.")
    answers.publish_button.click()
    await _settle()
    grab(window, "27-standard-answers")
    window.close()
    await window.session.close()


async def visit_screens(
    server: str, vault: object, out: Path, grab: Callable[[object, str], None]
) -> None:
    """Marco's day: the visit list, the equipment sheet, the signature, the PDF."""
    from PySide6.QtPdf import QPdfDocument

    from ui.qt import QtCore

    window = await demo_window(server, vault, "marco")
    session = window.session
    await wait_for(lambda: bool(window.visits_view.ids()), "Marco's visit")
    visit_id = window.visits_view.ids()[0]
    window.visits_view.table.selectRow(0)
    window.visits.open(visit_id)
    await wait_for(lambda: window.visits.current is not None, "the visit opened")
    await wait_for(lambda: "Computers" in window.visit_panel.sheet.toPlainText(), "the sheet")
    await _settle()
    grab(window, "18-visits-equipment-sheet")
    panel = window.visit_panel
    panel.add_part_button.click()
    _cell(panel.parts, 0, 0).setText("SSD 1 TB (Samsung 990 Pro)")
    _cell(panel.parts, 0, 2).setCheckState(QtCore.Qt.CheckState.Checked)
    panel.add_tool_button.click()
    _cell(panel.tools, 0, 0).setText("Torx T5 screwdriver, USB recovery stick")
    _cell(panel.tools, 0, 2).setCheckState(QtCore.Qt.CheckState.Checked)
    panel.form_ready.setChecked(True)
    window.visits.save_checklist()
    await wait_for(lambda: "packed" in panel.prepared_label.text(), "the checklist")
    window.visits.want_disk_step()
    for _ in range(6):
        before = window.visits.next_step()
        panel.next_step_button.click()
        await wait_for(lambda b=before: window.visits.next_step() != b, "a step")  # type: ignore[misc]
    sign(panel.disk_pad, 0)
    panel.tabs.setCurrentIndex(2)
    await _settle()
    grab(window, "19-visit-on-site-disk-consent")
    for _ in range(3):
        before = window.visits.next_step()
        panel.next_step_button.click()
        await wait_for(lambda b=before: window.visits.next_step() != b, "a step")  # type: ignore[misc]
    panel.tabs.setCurrentIndex(3)
    panel.work_done.setPlainText(
        "Byttet disk (SSD 1 TB), gjenopprettet fra skyen. Anbefalt daglig sikkerhetskopi."
    )
    panel.minutes.setValue(85)
    panel.rating.setCurrentIndex(panel.rating.findData(5))
    panel.comment.setText("Rask og ryddig, takk!")
    await _settle()
    sign(panel.pad, 1)
    await _settle()
    grab(window, "20-signature-pad")
    window.visits.close_report()
    await wait_for(lambda: (window.visits.current or {}).get("state") == "closed", "closed")
    pdf = out / "service-report.pdf"
    window.visits.export("report", pdf)
    await wait_for(lambda: getattr(window.visits, "exported", None) == pdf, "the PDF")
    document = QPdfDocument()
    document.load(str(pdf))
    page = document.render(0, QtCore.QSize(1240, 1754))
    page.save(str(out / "21-report-pdf.png"))
    pdf.unlink()
    window.close()
    await session.close()


def _cell(table: QtWidgets.QTableWidget, row: int, column: int) -> QtWidgets.QTableWidgetItem:
    item = table.item(row, column)
    assert item is not None
    return item


def sign(pad: object, variant: int) -> None:
    """A signature as a hand would draw it (for the pictures)."""
    import math

    from ui.qt import QtCore

    pad.begin(QtCore.QPointF(40, 95))  # type: ignore[attr-defined]
    for step in range(0, 260, 3):
        x = 40 + step * 1.3
        y = 95 - 28 * math.sin(step / (14 + 4 * variant)) - 10 * math.sin(step / 5)
        pad.extend(QtCore.QPointF(x, y))  # type: ignore[attr-defined]
    pad.finish()  # type: ignore[attr-defined]
    pad.begin(QtCore.QPointF(120, 60))  # type: ignore[attr-defined]
    for step in range(0, 60, 3):
        pad.extend(QtCore.QPointF(120 + step, 60 + step * 0.9))  # type: ignore[attr-defined]
    pad.finish()  # type: ignore[attr-defined]


async def message_screens(window: MainWindow, grab: Callable[[object, str], None]) -> None:
    """The message form with a refused number, then complete with its read-back."""
    from ui.qt import QtCore

    sheet = next(
        s
        for s in await window.session.runner.read(window.session.store.search, "Bjørn")
        if "Ødegård" in s.name
    )
    window.contacts.take(None)
    window.contacts.log_contact(
        {"channel": "phone", "caller_name": sheet.name}, customer_id=sheet.id
    )
    await wait_for(lambda: window.contacts.current is not None, "the call")
    window.take_message()
    form = window.message_form
    assert form is not None
    await wait_for(lambda: form.recipient.count() > 1 and bool(form.organisation.text()), "prefill")
    form.choose_recipient("li.wei")
    form.agent_zone = "Europe/Oslo"  # the desk's own zone, as in Oslo
    form.phone.setText("22 33 44")
    form.message.setPlainText(
        "VPN-tilgangen faller ut hver time etter passordbyttet. Han ber om tilbakeringing."
    )
    form.urgency.setCurrentIndex(form.urgency.findData("high"))
    form.day.setDate(QtCore.QDate.currentDate().addDays(1))
    form.start.setTime(QtCore.QTime(8, 0))
    form.end.setTime(QtCore.QTime(10, 0))
    form.send()
    form.resize(1100, 720)
    await _settle()
    grab(form, "15-message-form-refused-number")
    form.phone.setText("+47 22 33 44 55")
    await _settle()
    grab(form, "16-message-read-back")
    form.send()
    await wait_for(lambda: not form.isVisible(), "the message to be kept")
    await wait_for(lambda: window.session.store.outbox_counts().pending == 0, "the message sent")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "docs/screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["AGENTDESK_SOUND"] = "off"
    with tempfile.TemporaryDirectory(prefix="agentdesk-shots-") as tmp:
        os.environ["AGENTDESK_DATA_DIR"] = tmp
        from agentdesk.demo import free_port, prepare_demo, server_process
        from ui.app import make_application
        from ui.qt import qasync

        db_url = f"sqlite:///{Path(tmp) / 'server.sqlite'}"
        _report, token = prepare_demo(db_url)
        app = make_application()
        with server_process(db_url, free_port()) as server:
            loop = qasync.QEventLoop(app)
            asyncio.set_event_loop(loop)
            with loop:
                saved = loop.run_until_complete(capture(out, server, token))
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
