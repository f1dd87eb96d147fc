"""Customer sheets in files: the JSON and CSV formats documented in ``customer_profiles/``.

Reading checks every sheet with the sheet rules and reports each bad one with where it is
in the file (a JSON index or a CSV line) and the field at fault; nothing is returned when any
sheet is bad, so an import is all or nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from agentdesk.domain.customers import (
    DEVICE_FIELDS,
    Customer,
    parse_customer,
    refuse_credentials,
)
from agentdesk.domain.errors import ValidationFailed

FORMAT_ID: Final = "agentdesk.customers/1"
CUSTOMER_COLUMNS: Final[tuple[str, ...]] = (
    "id",
    "name",
    "phones",
    "email",
    "organisation",
    "location",
    "tier",
    "account_manager",
    "language",
    "timezone",
    "department",
)
CSV_COLUMNS: Final[tuple[str, ...]] = CUSTOMER_COLUMNS + DEVICE_FIELDS
LIST_SEPARATOR: Final = "; "

FileFormat = Literal["json", "csv"]


@dataclass(frozen=True)
class SheetProblem:
    """A bad sheet in a file: ``where`` is ``customers[3]`` or ``line 7``."""

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.message}"


class ProfileFileError(ValueError):
    """A file that cannot be imported, with every problem found in it."""

    def __init__(self, problems: Sequence[SheetProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def guess_format(path: Path, explicit: str | None = None) -> FileFormat:
    name = (explicit or path.suffix.lstrip(".")).lower()
    if name in ("json", "csv"):
        return name  # type: ignore[return-value]
    raise ProfileFileError(
        [SheetProblem(str(path), "format", "use a .json or .csv file, or give --format")]
    )


def read_profiles(path: Path, file_format: str | None = None) -> list[Customer]:
    fmt = guess_format(path, file_format)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        advice = "save it as CSV UTF-8" if fmt == "csv" else "save it as UTF-8"
        problem = SheetProblem(f"line {line}", "encoding", f"the file is not UTF-8: {advice}")
        raise ProfileFileError([problem]) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # any line ends, as text mode reads
    return parse_json(text) if fmt == "json" else parse_csv(text)


def _same_place(where: str, field: str) -> tuple[str, str]:
    return where, field


def _collect(
    items: Iterable[tuple[str, dict[str, Any]]],
    problems: list[SheetProblem],
    locate: Callable[[str, str], tuple[str, str]] = _same_place,
) -> list[Customer]:
    """Every sheet validated; raises with ``problems`` and every sheet's own problems.

    ``locate`` turns a sheet's first place and a field path into the place and field a
    reader of the file looks for (a CSV device field lives on its own line).
    """
    sheets: list[Customer] = []
    seen: dict[str, str] = {}
    for where, raw in items:
        try:
            sheet = parse_customer(raw)
        except ValidationFailed as failed:
            for error in failed.errors:
                problems.append(SheetProblem(*locate(where, error.field), error.message))
            continue
        if sheet.id in seen:
            problems.append(SheetProblem(where, "id", f"repeats the id of {seen[sheet.id]}"))
            continue
        seen[sheet.id] = where
        sheets.append(sheet)
    if problems:
        raise ProfileFileError(sorted(problems, key=_position))
    return sheets


def _position(problem: SheetProblem) -> int:
    """Where a problem is in the file (the number in ``line 7`` or ``customers[3]``)."""
    found = re.search(r"\d+", problem.where)
    return int(found[0]) if found else -1


def parse_json(text: str) -> list[Customer]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileFileError(
            [SheetProblem(f"line {exc.lineno}", "json", f"not valid JSON: {exc.msg}")]
        ) from None
    if isinstance(document, list):
        entries = document
    elif isinstance(document, dict) and isinstance(document.get("customers"), list):
        entries = document["customers"]
    else:
        raise ProfileFileError(
            [SheetProblem("file", "customers", 'expected {"customers": [...]} or a list')]
        )
    items: list[tuple[str, dict[str, Any]]] = []
    problems: list[SheetProblem] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(SheetProblem(f"customers[{i}]", "customer", "expected an object"))
            continue
        sheet = {k: v for k, v in entry.items() if k != "version"}
        items.append((f"customers[{i}]", sheet))
    return _collect(items, problems)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _phones(value: str) -> list[dict[str, str]]:
    phones = []
    for part in _split(value):
        label, sep, number = part.partition(":")
        if sep and not label.strip().startswith("+") and not label.strip()[:1].isdigit():
            phones.append({"label": label.strip(), "number": number.strip()})
        else:
            phones.append({"label": "office", "number": part})
    return phones


def parse_csv(text: str) -> list[Customer]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    problems = [SheetProblem("line 1", e.field, e.message) for e in refuse_credentials(header)]
    missing = [c for c in ("name",) if c not in header]
    problems += [SheetProblem("line 1", c, "column is missing") for c in missing]
    unknown = [c for c in header if c not in CSV_COLUMNS and not refuse_credentials([c])]
    problems += [SheetProblem("line 1", c, "is not a column of the format") for c in unknown]
    if problems:
        raise ProfileFileError(problems)

    grouped: dict[str, tuple[str, dict[str, Any]]] = {}
    first_cells: dict[str, dict[str, str]] = {}
    device_lines: dict[str, list[str]] = {}
    order: list[str] = []
    for row in reader:
        line = f"line {reader.line_num}"
        cells = {k: (v or "").strip() for k, v in row.items() if k}
        key = cells.get("id", "")
        if not key:
            problems.append(
                SheetProblem(line, "id", "is required: it groups the rows of one customer")
            )
            continue
        customer_cells = {c: cells.get(c, "") for c in CUSTOMER_COLUMNS if c in cells}
        if key not in grouped:
            customer: dict[str, Any] = dict(customer_cells)
            customer["phones"] = _phones(cells.get("phones", ""))
            customer["tier"] = customer.get("tier") or "B"  # an empty cell is no tier given
            customer["devices"] = []
            grouped[key] = (line, customer)
            first_cells[key] = customer_cells
            device_lines[line] = []
            order.append(key)
        else:
            problems += [
                SheetProblem(line, c, f"differs from {grouped[key][0]} of the same customer")
                for c, v in customer_cells.items()
                if v != first_cells[key].get(c, "")
            ]
        device = {f: cells.get(f, "") for f in DEVICE_FIELDS if f in cells}
        device["software"] = _split(cells.get("software", ""))
        device["ip_addresses"] = _split(cells.get("ip_addresses", ""))
        if any(device.values()):
            grouped[key][1]["devices"].append(device)
            device_lines[grouped[key][0]].append(line)

    def locate(where: str, field: str) -> tuple[str, str]:
        # devices[1].ip_addresses[0] is the ip_addresses column of that computer's row;
        # phones[1].number is the phones column of the customer's first row.
        found = re.fullmatch(r"devices\[(\d+)\]\.(\w+).*", field)
        if found:
            return device_lines[where][int(found[1])], found[2]
        return where, re.sub(r"\[.*", "", field)

    return _collect((grouped[k] for k in order), problems, locate)


def to_json(sheets: Iterable[Customer]) -> str:
    document = {
        "format": FORMAT_ID,
        "customers": [{k: v for k, v in s.to_dict().items() if k != "version"} for s in sheets],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def to_csv(sheets: Iterable[Customer]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for sheet in sheets:
        data = sheet.to_dict()
        base = {c: data[c] for c in CUSTOMER_COLUMNS if c != "phones"}
        base["phones"] = LIST_SEPARATOR.join(f"{p.label}:{p.number}" for p in sheet.phones)
        devices = sheet.devices or (None,)
        for device in devices:
            row = dict(base)
            if device is not None:
                d = device.to_dict()
                row |= {f: d[f] for f in DEVICE_FIELDS}
                row["software"] = LIST_SEPARATOR.join(device.software)
                row["ip_addresses"] = LIST_SEPARATOR.join(device.ip_addresses)
            writer.writerow(row)
    return out.getvalue()


def write_profiles(path: Path, sheets: Sequence[Customer], file_format: str | None = None) -> None:
    fmt = guess_format(path, file_format)
    path.write_text(to_json(sheets) if fmt == "json" else to_csv(sheets), encoding="utf-8")
