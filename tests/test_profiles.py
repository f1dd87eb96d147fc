"""Customer sheets in files: the demo set, the JSON and CSV formats, all-or-nothing reading."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from agentdesk.domain.customers import Customer, parse_customer
from agentdesk.profiles import (
    CSV_COLUMNS,
    ProfileFileError,
    guess_format,
    parse_csv,
    parse_json,
    read_profiles,
    to_csv,
    to_json,
    write_profiles,
)
from tests.conftest import ROOT

SheetFactory = Callable[..., dict[str, Any]]
DEMO_JSON = ROOT / "customer_profiles" / "demo" / "customers.json"
SAMPLE_CSV = ROOT / "customer_profiles" / "samples" / "customers.csv"
HEADER = ",".join(CSV_COLUMNS)


def without_device_ids(sheet: Customer) -> Customer:
    """The sheet with its computers' ids blanked: CSV has no column for them."""
    return replace(sheet, devices=tuple(replace(d, id="") for d in sheet.devices))


def problems_of(parse: Callable[[str], list[Customer]], text: str) -> list[tuple[str, str]]:
    """(where, field) of every problem reading ``text`` reports."""
    with pytest.raises(ProfileFileError) as caught:
        parse(text)
    return [(p.where, p.field) for p in caught.value.problems]


def csv_row(**cells: str) -> str:
    """One CSV line with ``cells`` in their columns, quoted as a spreadsheet would."""
    values = []
    for column in CSV_COLUMNS:
        value = cells.get(column, "")
        values.append(f'"{value}"' if "," in value else value)
    return ",".join(values)


def scripts(text: str) -> set[str]:
    """The Unicode scripts (first word of the character names) of the letters in ``text``."""
    return {unicodedata.name(c).split()[0] for c in text if c.isalpha()}


@pytest.fixture(scope="module")
def demo() -> list[Customer]:
    return read_profiles(DEMO_JSON)


# --- the shipped files --------------------------------------------------------------------


def test_demo_set_has_at_least_forty_sheets_of_both_tiers(demo: list[Customer]) -> None:
    # Given the demo set as loaded
    # When its sheets are counted by tier
    tiers = [sheet.tier for sheet in demo]

    # Then there are enough of them, of both tiers, each with a unique id
    assert len(demo) >= 40
    assert set(tiers) == {"A", "B"}
    assert len({sheet.id for sheet in demo}) == len(demo)


@pytest.mark.parametrize(
    ("language", "script"),
    [("zh_CN", "CJK"), ("nb", "LATIN"), ("it", "LATIN"), ("ru", "CYRILLIC"), ("en", "LATIN")],
)
def test_demo_set_has_customers_named_in_each_desk_language(
    demo: list[Customer], language: str, script: str
) -> None:
    # Given the demo set
    # When the sheets of one language are picked
    names = [sheet.name for sheet in demo if sheet.language == language]

    # Then there are several, and their names are written in that language's script
    assert len(names) >= 5
    assert all(scripts(name) == {script} for name in names)


def test_demo_norwegian_names_keep_their_special_letters(demo: list[Customer]) -> None:
    # Given the demo set
    # When the Norwegian names are read
    names = " ".join(sheet.name for sheet in demo if sheet.language == "nb")

    # Then æ, ø and å survived loading
    assert {"æ", "ø", "å"} <= set(names.lower())


def test_sample_csv_matches_the_demo_json_for_the_same_ids(demo: list[Customer]) -> None:
    # Given the sample CSV
    # When it is loaded
    samples = read_profiles(SAMPLE_CSV)

    # Then each of its sheets equals the demo JSON sheet with the same id
    by_id = {sheet.id: without_device_ids(sheet) for sheet in demo}
    assert len(samples) == 5
    for sheet in samples:
        assert without_device_ids(sheet) == by_id[sheet.id]


# --- round trips --------------------------------------------------------------------------


@pytest.fixture
def tricky_sheets(customer_factory: SheetFactory) -> list[Customer]:
    """Sheets with the text that breaks naive writers: scripts, commas, quotes, lines."""
    return [
        parse_customer(
            customer_factory(
                name="王伟",
                organisation='华信物流有限公司, "总部"',
                location="北京市朝阳区建国路 88 号,\n3 楼机房",
                language="zh_CN",
                timezone="Asia/Shanghai",
                tier="A",
                phones=[
                    {"label": "office", "number": "+86 10 6552 9988"},
                    {"label": "mobile", "number": "+86 139 1234 5678"},
                ],
                devices=[
                    {
                        "computer_name": "HX-BJ-FIN-01",
                        "os": "银河麒麟桌面操作系统 V10 SP1",
                        "software": ["用友 U8 财务软件", "Microsoft Office 2021"],
                        "ip_addresses": ["10.20.1.15", "fd00::15"],
                    },
                    {"computer_name": "HX-BJ-FIN-02", "ip_addresses": []},
                ],
            )
        ),
        parse_customer(
            customer_factory(
                name="Анна Кузнецова",
                email="",
                phones=[],
                devices=[],
                language="ru",
                timezone="Europe/Moscow",
                organisation="ООО «Северсталь-Сервис»",
            )
        ),
        parse_customer(customer_factory(name="Bjørn Ødegård", account_manager="Åse Kværnes")),
    ]


def test_json_round_trip_keeps_every_sheet_exactly(tricky_sheets: list[Customer]) -> None:
    # Given sheets with Chinese, Cyrillic and Norwegian text, quotes and line breaks
    # When they are written to JSON and read back
    again = parse_json(to_json(tricky_sheets))

    # Then they are the same sheets, computer ids included
    assert again == tricky_sheets


def test_json_is_written_as_readable_utf8(tricky_sheets: list[Customer]) -> None:
    # Given sheets with non-Latin names
    # When they are written to JSON
    text = to_json(tricky_sheets)

    # Then the names are there as text, not \\u escapes, under the format marker
    assert "王伟" in text
    assert "Анна Кузнецова" in text
    assert json.loads(text)["format"] == "agentdesk.customers/1"


def test_csv_round_trip_keeps_every_sheet(tricky_sheets: list[Customer]) -> None:
    # Given the same sheets, one of them with two computers and one with none
    # When they are written to CSV and read back
    again = parse_csv(to_csv(tricky_sheets))

    # Then they are the same sheets (CSV has no column for computer ids)
    assert [without_device_ids(s) for s in again] == [without_device_ids(s) for s in tricky_sheets]


def test_csv_writes_one_row_per_computer(tricky_sheets: list[Customer]) -> None:
    # Given sheets with two, zero and one computers
    # When they are written to CSV
    text = to_csv(tricky_sheets)

    # Then there is a header and one row per computer, at least one per customer
    rows = parse_rows(text)
    assert [row["id"] for row in rows] == [
        tricky_sheets[0].id,
        tricky_sheets[0].id,
        tricky_sheets[1].id,
        tricky_sheets[2].id,
    ]


def parse_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("suffix", ["json", "csv"])
def test_file_round_trip_through_disk_keeps_utf8(
    tmp_path: Path, tricky_sheets: list[Customer], suffix: str
) -> None:
    # Given sheets written to a file
    path = tmp_path / f"customers.{suffix}"
    write_profiles(path, tricky_sheets)

    # When the file is read back
    again = read_profiles(path)

    # Then the sheets survived, and the file is plain UTF-8
    assert [without_device_ids(s) for s in again] == [without_device_ids(s) for s in tricky_sheets]
    assert "王伟" in path.read_bytes().decode("utf-8")


def test_csv_saved_with_a_byte_order_mark_is_read(
    tmp_path: Path, tricky_sheets: list[Customer]
) -> None:
    # Given a CSV saved by a spreadsheet as "CSV UTF-8", with a byte order mark
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + to_csv(tricky_sheets).encode("utf-8"))

    # When it is read
    again = read_profiles(path)

    # Then the first column is still the id column
    assert [s.id for s in again] == [s.id for s in tricky_sheets]


def test_file_that_is_not_utf8_is_refused_naming_the_line(tmp_path: Path) -> None:
    # Given a CSV saved by a spreadsheet in Windows-1252 instead of UTF-8
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"id,name\n{uuid.uuid4()},Bjørn Ødegård\n".encode("cp1252"))

    # When it is read
    with pytest.raises(ProfileFileError) as caught:
        read_profiles(path)

    # Then the line is named and the user told to save it as CSV UTF-8
    [problem] = caught.value.problems
    assert (problem.where, problem.field) == ("line 2", "encoding")
    assert "CSV UTF-8" in problem.message


@pytest.mark.parametrize("line_end", ["\r\n", "\r"])
def test_file_with_windows_or_old_mac_line_ends_is_read(tmp_path: Path, line_end: str) -> None:
    # Given a CSV whose lines end the Windows or the old Mac way
    key = str(uuid.uuid4())
    path = tmp_path / "customers.csv"
    text = f"id,name,tier\n{key},Ola Nordmann,A\n{key},Ola Nordmann,A\n"
    path.write_bytes(text.replace("\n", line_end).encode("utf-8"))

    # When it is read
    [sheet] = read_profiles(path)

    # Then the rows are read as rows
    assert (sheet.id, sheet.name, sheet.tier) == (key, "Ola Nordmann", "A")


def test_demo_set_round_trips_through_both_formats(demo: list[Customer]) -> None:
    # Given the whole demo set
    # When it goes through JSON and, separately, through CSV
    via_json = parse_json(to_json(demo))
    via_csv = parse_csv(to_csv(demo))

    # Then JSON keeps it exactly and CSV keeps everything but computer ids
    assert via_json == demo
    assert [without_device_ids(s) for s in via_csv] == [without_device_ids(s) for s in demo]


def test_unknown_extension_needs_an_explicit_format(tmp_path: Path) -> None:
    # Given a file name without a known extension
    path = tmp_path / "backup.dat"

    # When its format is guessed, with and without --format
    with pytest.raises(ProfileFileError) as caught:
        guess_format(path)

    # Then it is refused unless the format is given
    assert caught.value.problems[0].field == "format"
    assert guess_format(path, "json") == "json"


# --- bad JSON -----------------------------------------------------------------------------


def json_text(*sheets: Any) -> str:
    return json.dumps({"format": "agentdesk.customers/1", "customers": list(sheets)})


def test_every_bad_json_sheet_is_reported_with_position_and_field(
    customer_factory: SheetFactory,
) -> None:
    # Given a file with a good sheet and bad ones at positions 1, 2 and 4
    text = json_text(
        customer_factory(),
        customer_factory(phones=["+47 22 33 44 55", "+86 6552 9988"]),
        customer_factory(name="", tier="C"),
        customer_factory(),
        customer_factory(devices=[{"computer_name": "X", "ip_addresses": ["1.2.3.4", "1.2.3"]}]),
    )

    # When it is read
    problems = problems_of(parse_json, text)

    # Then every problem is listed where it is, and no sheet is returned
    assert problems == [
        ("customers[1]", "phones[1].number"),
        ("customers[2]", "name"),
        ("customers[2]", "tier"),
        ("customers[4]", "devices[0].ip_addresses[1]"),
    ]


def test_json_entry_that_is_not_an_object_is_reported_with_the_other_problems(
    customer_factory: SheetFactory,
) -> None:
    # Given a file with a stray string and a sheet without a name
    text = json_text("王伟", customer_factory(name=""))

    # When it is read
    problems = problems_of(parse_json, text)

    # Then both are reported in one go
    assert problems == [("customers[0]", "customer"), ("customers[1]", "name")]


def test_json_sheet_with_a_credential_is_refused(customer_factory: SheetFactory) -> None:
    # Given a sheet carrying the customer's password, and one with a PIN on a computer
    sheet = customer_factory(password="hunter2")
    other = customer_factory()
    other["devices"][0]["pin_code"] = "1234"

    # When the file is read
    problems = problems_of(parse_json, json_text(sheet, other))

    # Then both credentials are refused where they are
    assert problems == [("customers[0]", "password"), ("customers[1]", "devices[0].pin_code")]


def test_json_sheet_with_an_unknown_field_is_refused(customer_factory: SheetFactory) -> None:
    # Given a sheet with a field the format does not have
    # When the file is read
    problems = problems_of(parse_json, json_text(customer_factory(shoe_size="43")))

    # Then that field is named
    assert problems == [("customers[0]", "shoe_size")]


def test_json_sheet_repeating_an_id_is_refused(customer_factory: SheetFactory) -> None:
    # Given two sheets with the same id
    first = customer_factory()
    second = customer_factory(id=first["id"])

    # When the file is read
    with pytest.raises(ProfileFileError) as caught:
        parse_json(json_text(first, second))

    # Then the second one is reported, pointing at the first
    [problem] = caught.value.problems
    assert (problem.where, problem.field) == ("customers[1]", "id")
    assert "customers[0]" in problem.message


def test_invalid_json_is_reported_with_its_line() -> None:
    # Given a file that is not JSON
    # When it is read
    problems = problems_of(parse_json, '{\n  "customers": [\n    {"name": "Ola",}\n  ]\n}')

    # Then the line of the mistake is named
    assert problems == [("line 3", "json")]


def test_json_without_a_customers_list_is_refused() -> None:
    # Given a JSON document of the wrong shape
    # When it is read
    problems = problems_of(parse_json, '{"customer": {"name": "Ola"}}')

    # Then the missing list is named
    assert problems == [("file", "customers")]


def test_json_sheets_without_ids_get_new_ones_and_version_is_ignored() -> None:
    # Given a plain list of sheets without ids, one with a version from an export
    text = json.dumps([{"name": "Ola Nordmann", "version": 9}, {"name": "Kari Nordmann"}])

    # When it is read
    sheets = parse_json(text)

    # Then each sheet has its own new id and starts at version 0
    assert len({uuid.UUID(s.id) for s in sheets}) == 2
    assert [s.version for s in sheets] == [0, 0]


# --- bad CSV ------------------------------------------------------------------------------


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def test_csv_row_without_id_is_refused_with_its_line() -> None:
    # Given a good row on line 2 and a row without id on line 3
    text = csv_text(csv_row(id=str(uuid.uuid4()), name="Ola"), csv_row(name="Kari"))

    # When the file is read
    problems = problems_of(parse_csv, text)

    # Then line 3's id is named
    assert problems == [("line 3", "id")]


def test_csv_rows_of_one_customer_must_agree_on_customer_columns() -> None:
    # Given two rows of one customer that disagree on the name and the tier
    key = str(uuid.uuid4())
    text = csv_text(
        csv_row(id=key, name="Bjørn Ødegård", tier="A", computer_name="PC-1"),
        csv_row(id=key, name="Bjorn Odegard", tier="B", computer_name="PC-2"),
    )

    # When the file is read
    with pytest.raises(ProfileFileError) as caught:
        parse_csv(text)

    # Then the second row's differing columns are named, pointing at the first row
    problems = caught.value.problems
    assert [(p.where, p.field) for p in problems] == [("line 3", "name"), ("line 3", "tier")]
    assert all("line 2" in p.message for p in problems)


@pytest.mark.parametrize("column", ["password", "admin_pwd", "pin_code", "Secret"])
def test_csv_credential_column_is_refused(column: str) -> None:
    # Given a CSV with a column for a credential
    text = csv_text(f"{uuid.uuid4()},Ola,hunter2", header=f"id,name,{column}")

    # When the file is read
    with pytest.raises(ProfileFileError) as caught:
        parse_csv(text)

    # Then the header names the column as a credential that is never stored
    [problem] = caught.value.problems
    assert (problem.where, problem.field) == ("line 1", column)
    assert "credentials are never stored" in problem.message


def test_csv_unknown_column_is_refused() -> None:
    # Given a CSV with a column the format does not have
    text = csv_text(f"{uuid.uuid4()},Ola,43", header="id,name,shoe_size")

    # When the file is read
    with pytest.raises(ProfileFileError) as caught:
        parse_csv(text)

    # Then the column is named
    [problem] = caught.value.problems
    assert (problem.where, problem.field, problem.message) == (
        "line 1",
        "shoe_size",
        "is not a column of the format",
    )


def test_csv_without_name_column_is_refused() -> None:
    # Given a CSV without the name column
    # When the file is read
    problems = problems_of(parse_csv, csv_text(f"{uuid.uuid4()}", header="id"))

    # Then the missing column is named
    assert problems == [("line 1", "name")]


def test_csv_bad_computer_is_reported_on_its_own_line_and_column() -> None:
    # Given a customer whose second computer (line 3) has a bad address
    key = str(uuid.uuid4())
    text = csv_text(
        csv_row(id=key, name="Ola", computer_name="PC-1", ip_addresses="10.0.0.1"),
        csv_row(id=key, name="Ola", computer_name="PC-2", ip_addresses="10.0.0.2; 10.0.0.999"),
    )

    # When the file is read
    with pytest.raises(ProfileFileError) as caught:
        parse_csv(text)

    # Then line 3 and the ip_addresses column are named, quoting the bad value
    [problem] = caught.value.problems
    assert (problem.where, problem.field) == ("line 3", "ip_addresses")
    assert "10.0.0.999" in problem.message


def test_csv_bad_phone_is_reported_on_the_customer_line_and_phones_column() -> None:
    # Given a customer with a number missing its area code
    text = csv_text(csv_row(id=str(uuid.uuid4()), name="王伟", phones="office:+86 6552 9988"))

    # When the file is read
    with pytest.raises(ProfileFileError) as caught:
        parse_csv(text)

    # Then the phones column of line 2 is named, asking for the area code
    [problem] = caught.value.problems
    assert (problem.where, problem.field) == ("line 2", "phones")
    assert "area code" in problem.message


def test_every_csv_problem_is_reported_at_once_in_line_order() -> None:
    # Given a file with a bad address (line 2), a row without id (line 3), a bad tier
    # (line 4) and two disagreeing rows of one customer (lines 5 and 6)
    key = str(uuid.uuid4())
    text = csv_text(
        csv_row(id=str(uuid.uuid4()), name="Ola", ip_addresses="10.0.0.300"),
        csv_row(name="Kari"),
        csv_row(id=str(uuid.uuid4()), name="Per", tier="C"),
        csv_row(id=key, name="Pål", computer_name="PC-1"),
        csv_row(id=key, name="Paal", computer_name="PC-2"),
    )

    # When the file is read
    problems = problems_of(parse_csv, text)

    # Then all of them are reported together, in file order
    assert problems == [
        ("line 2", "ip_addresses"),
        ("line 3", "id"),
        ("line 4", "tier"),
        ("line 6", "name"),
    ]


def test_csv_empty_tier_cell_means_tier_b() -> None:
    # Given a row that leaves the optional tier, language and time zone cells empty
    text = csv_text(csv_row(id=str(uuid.uuid4()), name="Ola Nordmann"))

    # When the file is read
    [sheet] = parse_csv(text)

    # Then the documented defaults apply
    assert (sheet.tier, sheet.language, sheet.timezone) == ("B", "en", "UTC")


def test_csv_phones_with_and_without_labels_are_read() -> None:
    # Given a phones cell with a labelled number and a bare one
    text = csv_text(
        csv_row(
            id=str(uuid.uuid4()),
            name="Ola",
            tier="B",
            phones="Mobile:+47 412 34 567; 0047 22334455",
        )
    )

    # When the file is read
    [sheet] = parse_csv(text)

    # Then both numbers are stored in E.164, the bare one as office
    assert [(p.label, p.number) for p in sheet.phones] == [
        ("mobile", "+4741234567"),
        ("office", "+4722334455"),
    ]


def test_csv_customer_without_computers_has_none() -> None:
    # Given a row with every computer column empty
    text = csv_text(csv_row(id=str(uuid.uuid4()), name="Ola", tier="A"))

    # When the file is read
    [sheet] = parse_csv(text)

    # Then the sheet lists no computer
    assert sheet.devices == ()
