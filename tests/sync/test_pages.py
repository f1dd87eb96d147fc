"""A page of changes read a change at a time gives what reading it whole gives."""

from __future__ import annotations

import json
import sys
import threading
import time

import pytest
from pydantic import ValidationError

from agentdesk.sync.client import Offline, _read_changes
from agentdesk.sync.pages import PageUnreadable, read_page
from agentdesk.wire import ChangesPage

SHEET = {
    "id": "8d0c4c1e-0000-4000-8000-000000000001",
    "name": "Åse Øvrebø 王芳",
    "tier": "A",
    "phones": [{"label": "work", "number": "+4722334455"}],
    "devices": [{"computer_name": "OSL-07", "ip_addresses": ["10.0.0.7"]}],
    "note": 'quote " and \\ backslash, \u2028 and \U0001f600',
}


def _page(count: int = 3, **envelope: object) -> dict[str, object]:
    changes = [
        {
            "seq": i + 1,
            "entity": "customer",
            "id": f"c-{i}",
            "version": 1,
            "data": {**SHEET, "id": f"c-{i}"},
            "search": "åse øvrebø 王芳 4722334455",
        }
        for i in range(count)
    ]
    changes.append(
        {"seq": count + 1, "entity": "contact", "id": "k-1", "version": 2, "data": {"a": [1]}}
    )
    return {"changes": changes, "cursor": count + 1, "has_more": False, "remaining": 0, **envelope}


LAYOUTS = {
    "compact": lambda page: json.dumps(page, separators=(",", ":")).encode(),
    "spaced": lambda page: json.dumps(page, indent=3).encode(),
    "utf-8 text": lambda page: json.dumps(page, ensure_ascii=False).encode(),
    "padded": lambda page: b" \n\t" + json.dumps(page).encode() + b"\r\n ",
    "changes last": lambda page: json.dumps(dict(reversed(list(page.items())))).encode(),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_any_layout_reads_as_the_whole_page_does(layout: str) -> None:
    content = LAYOUTS[layout](_page())
    assert read_page(content) == ChangesPage.model_validate_json(content)


def test_an_empty_page_and_unknown_fields() -> None:
    content = json.dumps(_page(0, newer_field={"x": [1, 2]})).encode()
    page = read_page(content)
    assert page == ChangesPage.model_validate_json(content)
    empty = b'{"changes" : [ ], "cursor": 9, "has_more": false, "remaining": 0}'
    assert read_page(empty).changes == []
    assert read_page(empty).cursor == 9


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"   ",
        b'{"changes": [',
        b'{"changes": [{"seq": 1, "entity": "customer"',  # cut short in transit
        b'{"changes": [] "cursor": 1}',  # no comma
        b'{"changes": [], "cursor": 1,}',  # a comma too many
        b'{"changes": [{}, ], "cursor": 1}',
        b'{"changes": [], "cursor": 1} {"again": 1}',  # extra data
        b'{1: "a"}',
        b'{"changes": [], "cursor": 1, "has_more": false, "remaining": 0}\xff',
        b"\xff\xfe{}",  # not UTF-8
        b'{"changes": [], "cursor": NaN, "has_more": false, "remaining": 0}',
    ],
)
def test_bytes_that_are_not_json_are_unreadable(content: bytes) -> None:
    with pytest.raises(PageUnreadable):
        read_page(content)
    with pytest.raises(Offline, match="unreadable response"):
        _read_changes(content)


def test_json_that_is_not_a_page_names_the_field() -> None:
    page = _page(2)
    page["changes"][1]["seq"] = "second"  # type: ignore[index]
    del page["remaining"]
    with pytest.raises(ValidationError) as caught:
        read_page(json.dumps(page).encode())
    where = {tuple(error["loc"]) for error in caught.value.errors()}
    assert ("changes", 1, "seq") in where
    assert ("remaining",) in where
    with pytest.raises(ValidationError):
        read_page(b'["not", "a", "page"]')


def test_another_thread_runs_while_a_big_page_is_read() -> None:
    """Read whole, a big page holds the interpreter for one long call; read a change at a
    time, a thread that wakes every millisecond keeps waking while the page is read."""
    # 10,000 changes: about 100 ms to read, so the count below does not hang on the
    # machine's speed or load.
    content = json.dumps(_page(10_000)).encode()
    wakes: list[float] = []
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            time.sleep(0.001)
            wakes.append(time.perf_counter())

    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    thread = threading.Thread(target=probe)
    thread.start()
    try:
        time.sleep(0.01)
        started = time.perf_counter()
        page = read_page(content)
        finished = time.perf_counter()
    finally:
        done.set()
        thread.join()
        sys.setswitchinterval(previous)
    assert len(page.changes) == 10_001
    during = [t for t in wakes if started <= t <= finished]
    # Read whole, the probe wakes once or twice: as the read starts and once it is over.
    # Read a change at a time, about once a millisecond: dozens of times.
    assert len(during) >= 10, f"the probe woke {len(during)} times while the page was read"
