"""The contact history on a sheet: order, search by text, agent, category and day, opening."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pytestqt.qtbot import QtBot

from ui.history_view import HistoryView
from ui.qt import Qt, QtCore

UTC = dt.UTC
OSLO = ZoneInfo("Europe/Oslo")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def record(
    contact_id: str,
    offered: dt.datetime,
    *,
    channel: str = "phone",
    state: str = "ended",
    agent: str = "kari",
    owner: str = "Kari Nordmann",
    notes: list[tuple[str, str]] | None = None,
    promises: list[tuple[str, dt.datetime]] | None = None,
    category: str | None = None,
    outcome: str = "solved",
    waited_s: float | None = None,
) -> dict[str, Any]:
    """A contact record as the store hands it out; notes are (text, by) a minute apart."""
    answered = None if state == "abandoned" else offered + dt.timedelta(seconds=8)
    return {
        "id": contact_id,
        "channel": channel,
        "direction": "in",
        "caller_number": "+4722334455",
        "caller_name": "Bjørn Ødegård",
        "customer_id": "cust-1",
        "tier": "A",
        "state": state,
        "offered_at": iso(offered),
        "answered_at": iso(answered) if answered else None,
        "ended_at": iso(offered + dt.timedelta(minutes=10)) if state == "ended" else None,
        "speed_of_answer_s": 8.0 if answered else None,
        "waited_s": waited_s,
        "answered_by": "" if state == "abandoned" else agent,
        "owner_name": "" if state == "abandoned" else owner,
        "notes": [
            {
                "id": f"{contact_id}-n{i}",
                "text": text,
                "at": iso(offered + dt.timedelta(minutes=i + 1)),
                "by": by,
            }
            for i, (text, by) in enumerate(notes or [])
        ],
        "promises": [
            {
                "id": f"{contact_id}-p{i}",
                "text": text,
                "due_at": iso(due),
                "at": iso(offered),
                "by": owner,
                "done_at": None,
            }
            for i, (text, due) in enumerate(promises or [])
        ],
        "wrap_up": None
        if category is None
        else {
            "category": category,
            "outcome": outcome,
            "handed_to": "",
            "wrapped_at": iso(offered + dt.timedelta(minutes=12)),
            "acw_s": 30.0,
            "by": owner,
        },
    }


def history() -> list[dict[str, Any]]:
    """Four contacts, newest first, as the store returns them."""
    return [
        record(
            "c4",
            dt.datetime(2026, 11, 23, 23, 30, tzinfo=UTC),  # 24 Nov 07:30 in Shanghai
            agent="wang",
            owner="Wang Fang",
            notes=[("打印机 卡纸，已远程重启打印服务", "Wang Fang")],
            category="printing",
        ),
        record(
            "c3",
            dt.datetime(2026, 11, 23, 13, 5, tzinfo=UTC),
            state="abandoned",
            waited_s=42.0,
        ),
        record(
            "c2",
            dt.datetime(2026, 11, 20, 8, 15, tzinfo=UTC),
            channel="email",
            notes=[
                ("Ødegård cannot reach the shared drive from the ward", "Kari Nordmann"),
                ("VPN profile reinstalled; the drive mounts again", "Kari Nordmann"),
            ],
            promises=[("call back to confirm the drive works", dt.datetime(2026, 11, 21, 9, 0))],
            category="network",
            outcome="follow-up",
        ),
        record(
            "c1",
            dt.datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
            state="answered",
            agent="lars",
            owner="Lars Berg",
            notes=[("New laptop for Bjørn Ødegård, " + "setup details " * 10, "Lars Berg")],
        ),
    ]


@pytest.fixture
def view(qtbot: QtBot) -> HistoryView:
    widget = HistoryView()
    qtbot.addWidget(widget)
    widget.set_records(history(), tz=OSLO)
    return widget


def column_texts(view: HistoryView, row: int) -> list[str]:
    item = view.tree.topLevelItem(row)
    assert item is not None
    return [item.text(column) for column in range(view.tree.columnCount())]


def test_keeps_newest_first_order_and_shows_each_row(view: HistoryView) -> None:
    assert view.visible_ids() == ["c4", "c3", "c2", "c1"]
    assert view.count_label.text() == "4 contacts"
    assert view.stack.currentWidget() is view.tree
    # Times in the agent's zone (Oslo, UTC+1 in November).
    assert column_texts(view, 0)[:5] == [
        "24 Nov 2026 00:30",
        "Phone",
        "Wang Fang",
        "Printing",
        "Solved in the first contact",
    ]
    assert column_texts(view, 1)[4] == "Abandoned after 42 s"
    assert column_texts(view, 2)[1:5] == ["E-mail", "Kari Nordmann", "Network", "Follow-up needed"]
    assert column_texts(view, 2)[5] == "VPN profile reinstalled; the drive mounts again"
    assert column_texts(view, 3)[4] == "Open"
    summary = column_texts(view, 3)[5]
    assert summary.endswith("…") and len(summary) <= 80 and "\n" not in summary
    first = view.tree.topLevelItem(0)
    assert first is not None and first.data(0, Qt.ItemDataRole.UserRole) == "c4"


def test_abandoned_rows_are_muted(view: HistoryView) -> None:
    abandoned, answered = view.tree.topLevelItem(1), view.tree.topLevelItem(2)
    assert abandoned is not None and answered is not None
    muted = abandoned.foreground(0).color()
    assert muted.isValid() and muted != answered.foreground(0).color()


def test_tooltip_holds_every_note_and_promise(view: HistoryView) -> None:
    item = view.tree.topLevelItem(2)
    assert item is not None
    tip = item.toolTip(0)
    assert tip == item.toolTip(5)
    assert "09:16 by Kari Nordmann: Ødegård cannot reach the shared drive" in tip
    assert "09:17 by Kari Nordmann: VPN profile reinstalled" in tip
    assert "Due 21 Nov 2026 10:00: call back to confirm the drive works" in tip
    assert "+47 22 33 44 55" in tip


def test_text_search_finds_norwegian_and_chinese_words(view: HistoryView) -> None:
    view.text_filter.setText("打印机")
    assert view.visible_ids() == ["c4"]
    assert view.count_label.text() == "1 of 4 contacts"

    view.text_filter.setText("ødegård drive")  # every word, any case
    assert view.visible_ids() == ["c2"]

    view.text_filter.setText("Ødegård")  # the caller's name is on all four
    assert view.visible_ids() == ["c4", "c3", "c2", "c1"]
    assert view.count_label.text() == "4 of 4 contacts"

    view.text_filter.setText("")
    assert view.count_label.text() == "4 contacts"


def test_agent_search_ignores_case(view: HistoryView) -> None:
    view.agent_filter.setText("KARI")
    assert view.visible_ids() == ["c2"]
    view.agent_filter.setText("lArS")
    assert view.visible_ids() == ["c1"]
    view.agent_filter.setText("wang")
    assert view.visible_ids() == ["c4"]


def test_category_filter(view: HistoryView) -> None:
    assert view.category_filter.itemText(0) == "Any category"
    view.category_filter.setCurrentIndex(view.category_filter.findData("network"))
    assert view.visible_ids() == ["c2"]
    assert view.count_label.text() == "1 of 4 contacts"
    view.category_filter.setCurrentIndex(0)
    assert view.visible_ids() == ["c4", "c3", "c2", "c1"]


def test_day_filter_uses_the_agents_time_zone(qtbot: QtBot) -> None:
    widget = HistoryView()
    qtbot.addWidget(widget)
    widget.set_records(history(), tz=SHANGHAI)
    first = widget.tree.topLevelItem(0)
    assert first is not None and first.text(0) == "24 Nov 2026 07:30"

    widget.day_filter.setDate(QtCore.QDate(2026, 11, 24))
    assert widget.visible_ids() == ["c4", "c3", "c2", "c1"]  # not ticked: any day
    assert not widget.day_filter.isEnabled()
    widget.day_enabled.setChecked(True)
    assert widget.day_filter.isEnabled()
    assert widget.visible_ids() == ["c4"]  # 23:30 UTC is the next morning in Shanghai

    widget.day_filter.setDate(QtCore.QDate(2026, 11, 23))
    assert widget.visible_ids() == ["c3"]  # 13:05 UTC is 21:05 the same day

    widget.set_records(history(), tz=UTC)  # the same day in UTC holds both
    assert widget.visible_ids() == ["c4", "c3"]


def test_filters_combine(view: HistoryView) -> None:
    view.agent_filter.setText("kari")
    view.text_filter.setText("打印机")
    assert view.visible_ids() == []
    view.clear_filters()
    assert view.visible_ids() == ["c4", "c3", "c2", "c1"]
    assert view.text_filter.text() == "" and view.agent_filter.text() == ""
    assert view.count_label.text() == "4 contacts"


def test_empty_states(qtbot: QtBot) -> None:
    widget = HistoryView()
    qtbot.addWidget(widget)
    widget.set_records([], tz=OSLO)
    assert widget.visible_ids() == []
    assert widget.count_label.text() == "0 contacts"
    assert widget.stack.currentWidget() is widget.empty_label
    assert widget.empty_label.text() == "No contacts yet"

    widget.set_records(history()[:1], tz=OSLO)
    assert widget.count_label.text() == "1 contact"
    widget.text_filter.setText("nothing like this")
    assert widget.visible_ids() == []
    assert widget.count_label.text() == "0 of 1 contact"
    assert widget.stack.currentWidget() is widget.empty_label
    assert widget.empty_label.text() == "No contact matches the search"

    widget.text_filter.clear()
    assert widget.stack.currentWidget() is widget.tree


def test_double_click_and_enter_emit_the_contact_id(qtbot: QtBot, view: HistoryView) -> None:
    view.resize(800, 400)
    view.show()
    qtbot.waitExposed(view)
    opened: list[str] = []
    view.contact_activated.connect(opened.append)

    item = view.tree.topLevelItem(2)
    assert item is not None
    centre = view.tree.visualItemRect(item).center()
    # A real double-click: the first click, then the second reported as a double-click.
    qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert opened == []  # one click only selects
    qtbot.mouseDClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert opened == ["c2"]

    abandoned = view.tree.topLevelItem(1)
    assert abandoned is not None
    view.tree.setCurrentItem(abandoned)
    view.tree.setFocus()
    qtbot.keyClick(view.tree, Qt.Key.Key_Return)
    assert opened == ["c2", "c3"]
