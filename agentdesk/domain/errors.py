"""Errors a user can cause, each naming the field and what is expected."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One invalid field: ``field`` is a path such as ``devices[0].ip_addresses[1]``."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationFailed(ValueError):
    """Raised with every invalid field of a record at once, so a form can mark them all."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors: list[FieldError] = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))

    def by_field(self) -> dict[str, str]:
        """The first message for each field path."""
        found: dict[str, str] = {}
        for error in self.errors:
            found.setdefault(error.field, error.message)
        return found


class FieldValueError(ValueError):
    """A single value is invalid; the caller knows which field it belongs to."""


#: Characters no text field holds: control characters but tab and line breaks, and halves of
#: surrogate pairs (broken text that no database stores).
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def has_unprintable(text: str) -> bool:
    return UNPRINTABLE.search(text) is not None
