"""Fill a desk's local store with synced customers, fast, exactly as the store would.

Storing a million sheets through :meth:`LocalStore.apply_changes` would take an hour (each
sheet is parsed twice). The sheets from :mod:`benchmarks.generate` are already canonical, so
the rows are built here directly: the same column values ``local._columns`` computes for a
sheet the server sent (name, tier, organisation, search text, what a search result shows,
data), version 1, the server's copy, not dirty. A sample of rows is checked against
``_columns`` itself before anything is written, so the benchmark fails loudly if the two ever
drift apart. The store's own triggers index each row for search as it is inserted, as they do
for sheets pulled from a server, so the index is the one a desk would have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import insert

from agentdesk.domain.customers import phone_digits
from agentdesk.store.local import CustomerRow, LocalStore, _columns, _summary_columns
from benchmarks.generate import COUNTRIES, SheetGenerator, phone_templates

CHUNK = 5_000
CHECKED_ROWS = 300


class PhoneDigits:
    """``phone_digits`` for generated numbers without parsing each one.

    Generated numbers differ from their template only in the last ``k`` digits, and so do
    their international, national and dialled forms: work those out once per template.
    """

    def __init__(self) -> None:
        self._digits_of: dict[str, int] = {}
        for country in COUNTRIES:
            for template in phone_templates(country.region):
                self._digits_of[template.prefix] = template.digits
        self._lengths = sorted(set(self._digits_of.values()))
        self._parts: dict[str, list[str]] = {}

    def __call__(self, e164: str) -> str:
        for k in self._lengths:
            prefix = e164[:-k]
            if self._digits_of.get(prefix) == k:
                break
        else:
            return phone_digits(e164)
        parts = self._parts.get(prefix)
        if parts is None:
            full = phone_digits(e164).split(" ")
            if any(not p.endswith(e164[-k:]) for p in full):
                raise AssertionError(f"phone_digits({e164}) does not end in its last digits")
            parts = self._parts[prefix] = [p[:-k] for p in full]
        tail = e164[-k:]
        return " ".join(p + tail for p in parts)


def _search_text(sheet: Mapping[str, Any], digits: Callable[[str], str]) -> str:
    # Mirrors agentdesk.domain.customers.search_text on canonical sheet data.
    parts = [sheet["name"], sheet["email"], sheet["organisation"], sheet["location"]]
    parts += [digits(p["number"]) for p in sheet["phones"]]
    for device in sheet["devices"]:
        parts += [device["computer_name"], *device["ip_addresses"]]
    return " ".join(p for p in parts if p).casefold()


def synced_row(sheet: dict[str, Any], digits: Callable[[str], str]) -> dict[str, Any]:
    """The ``customers`` row of a sheet the server sent at version 1."""
    sheet["version"] = 1
    return {
        "id": sheet["id"],
        "version": 1,
        "name": sheet["name"],
        "tier": sheet["tier"],
        "organisation": sheet["organisation"],
        "search": _search_text(sheet, digits),
        "data": sheet,
        "server_data": sheet,
        "dirty": False,
        **_summary_columns(sheet),
    }


def check_rows(rows: Iterable[Mapping[str, Any]]) -> int:
    """Compare rows with what the store computes; raise on the first difference."""
    checked = 0
    for row in rows:
        expected = _columns(row["data"])
        for column, value in expected.items():
            if row[column] != value:
                raise AssertionError(
                    f"benchmark row of {row['id']} differs from the store's in {column!r}: "
                    f"{row[column]!r} != {value!r}"
                )
        checked += 1
    return checked


def fill_synced(
    store: LocalStore,
    count: int,
    *,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Insert sheets 0 … count-1 of ``seed`` as synced customers, in chunks."""
    generator = SheetGenerator(seed)
    digits = PhoneDigits()
    step = max(1, count // CHECKED_ROWS)
    for start in range(0, count, CHUNK):
        rows = [
            synced_row(s, digits) for s in generator.sheets(min(CHUNK, count - start), start=start)
        ]
        check_rows(row for i, row in enumerate(rows, start) if i % step == 0)
        with store.engine.begin() as conn:
            conn.execute(insert(CustomerRow), rows)
        if progress is not None:
            progress(start + len(rows))
