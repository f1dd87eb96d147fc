"""Reading a page of changes a piece at a time, so the desk never stops while it reads one.

A page of a first sync is megabytes of JSON: 2,000 sheets. Read in one call
(``ChangesPage.model_validate_json``), it holds the interpreter for tens of milliseconds,
which the GUI thread waits out however the reading thread was started. :func:`read_page`
reads the same JSON one change at a time instead: each change is decoded and validated by
a call of its own (a few microseconds), and between calls the GUI thread gets its turn.

It reads any layout of the JSON (whitespace, key order) and gives the page that reading it
whole gives; like that, it refuses what JSON does not allow (``NaN``, ``Infinity``).
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from agentdesk.wire import Change, ChangesPage


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


_DECODER: Final = json.JSONDecoder(parse_constant=_not_json)
_SPACE: Final = re.compile(r"[ \t\n\r]*")


class PageUnreadable(ValueError):
    """The bytes are not JSON: a reply cut short or garbled in transit."""


def read_page(content: bytes) -> ChangesPage:
    """The :class:`ChangesPage` in ``content``.

    Raises :class:`PageUnreadable` when ``content`` is not JSON, and pydantic's
    ``ValidationError`` when it is JSON but not a page of changes.
    """
    try:
        text = content.decode("utf-8")
        fields = _Reader(text).page()
    except (UnicodeDecodeError, ValueError) as exc:
        raise PageUnreadable(str(exc)) from exc
    return ChangesPage.model_validate(fields)


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def _skip(self) -> str:
        """Past any whitespace; the character there ("" at the end)."""
        match = _SPACE.match(self.text, self.at)
        assert match is not None  # the pattern matches the empty string
        self.at = match.end()
        return self.text[self.at : self.at + 1]

    def _expect(self, *allowed: str) -> str:
        found = self._skip()
        if found not in allowed:
            expected = " or ".join(repr(a) for a in allowed)
            raise ValueError(f"expected {expected} at character {self.at}, found {found!r}")
        self.at += 1
        return found

    def _value(self) -> Any:
        self._skip()
        value, self.at = _DECODER.raw_decode(self.text, self.at)
        return value

    def page(self) -> Any:
        # Not an object: read whole, for the page's validation to say what it is.
        value = self._fields() if self._skip() == "{" else self._value()
        if self._skip():
            raise ValueError(f"extra data at character {self.at}")
        return value

    def _fields(self) -> dict[str, Any]:
        self._expect("{")
        fields: dict[str, Any] = {}
        if self._skip() == "}":
            self.at += 1
            return fields
        while True:
            key = self._value()
            if not isinstance(key, str):
                raise ValueError(f"expected a field name before character {self.at}")
            self._expect(":")
            if key == "changes" and self._skip() == "[":
                fields[key] = self._changes()
            else:
                fields[key] = self._value()
            if self._expect(",", "}") == "}":
                return fields

    def _changes(self) -> list[Any]:
        """The changes, each validated as it is read. One that is not a change is kept as
        it is, for the page's validation to report with its place in the list."""
        self._expect("[")
        changes: list[Any] = []
        if self._skip() == "]":
            self.at += 1
            return changes
        while True:
            item = self._value()
            try:
                changes.append(Change.model_validate(item))
            except ValueError:
                changes.append(item)
            if self._expect(",", "]") == "]":
                return changes
