"""The ``agentdesk`` command as a supervisor runs it: real processes on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
import uuid
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from agentdesk.domain.customers import Customer
from agentdesk.profiles import read_profiles
from tests.conftest import ROOT

DEMO_JSON = ROOT / "customer_profiles" / "demo" / "customers.json"
PASSWORD = "korrekt hest batteri stift"


def agentdesk(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``python -m agentdesk ARGS`` with ``stdin`` piped in."""
    return subprocess.run(
        [sys.executable, "-m", "agentdesk", *args],
        input=stdin,
        capture_output=True,
        check=False,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        timeout=120,
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def add_user(
    db: Path, name: str, *options: str, password: str = PASSWORD
) -> subprocess.CompletedProcess[str]:
    """``agentdesk users add NAME OPTIONS`` with the password typed on standard input."""
    return agentdesk("users", "add", name, *options, "--db", sqlite_url(db), stdin=password + "\n")


def query(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql, params).fetchall()


def without_device_ids(sheets: list[Customer]) -> list[Customer]:
    return [replace(s, devices=tuple(replace(d, id="") for d in s.devices)) for s in sheets]


def assert_one_line_error(result: subprocess.CompletedProcess[str], field: str) -> None:
    """Exit 2 and a single ``agentdesk: error: FIELD: …`` line, no traceback."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"agentdesk: error: {field}: "), lines[0]


# --- help ---------------------------------------------------------------------------------


def test_help_lists_every_command() -> None:
    # Given the installed command
    # When its help is asked for
    result = agentdesk("--help")

    # Then it lists the desk, the server, the demo and the supervisor's tools
    assert result.returncode == 0
    for command in ("desk", "server", "demo", "users", "departments", "profiles"):
        assert f"\n    {command} " in result.stdout


# --- departments and users ----------------------------------------------------------------


@pytest.fixture(scope="module")
def accounts_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the department ``Service Desk``, shared by the account tests."""
    path = tmp_path_factory.mktemp("accounts") / "server.sqlite"
    result = agentdesk("departments", "add", "Service Desk", "--db", sqlite_url(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "created department Service Desk"
    return path


def test_departments_are_added_and_listed_by_name(accounts_db: Path) -> None:
    # Given a database with Service Desk
    # When a department with a non-Latin name is added and the departments are listed
    added = agentdesk("departments", "add", "Полевая служба", "--db", sqlite_url(accounts_db))
    listed = agentdesk("departments", "list", "--db", sqlite_url(accounts_db))

    # Then both are listed, in name order
    assert added.returncode == 0, added.stderr
    assert listed.stdout.splitlines() == ["Service Desk", "Полевая служба"]


def test_adding_an_existing_department_is_refused(accounts_db: Path) -> None:
    # Given a database with Service Desk
    # When Service Desk is added again
    result = agentdesk("departments", "add", "Service Desk", "--db", sqlite_url(accounts_db))

    # Then it is refused in one line naming the field
    assert_one_line_error(result, "name")
    assert "already exists" in result.stderr


def test_department_without_a_name_is_refused_in_one_line(accounts_db: Path) -> None:
    # Given a database
    # When a department named only by spaces is added
    result = agentdesk("departments", "add", "   ", "--db", sqlite_url(accounts_db))

    # Then it is refused in one line naming the field, and nothing was added
    assert_one_line_error(result, "name")
    assert query(accounts_db, "SELECT count(*) FROM departments WHERE trim(name) = ''") == [(0,)]


def test_user_is_added_with_the_password_from_standard_input(accounts_db: Path) -> None:
    # Given a department and a password piped in
    # When an agent is added
    options = ("--role", "agent", "--department", "Service Desk", "--full-name", "Ingrid Solberg")
    result = add_user(accounts_db, "ingrid", *options)

    # Then the user is created in that department
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "created agent ingrid (Ingrid Solberg)"
    assert query(
        accounts_db,
        "SELECT u.role, d.name FROM users u JOIN departments d ON d.id = u.department_id "
        "WHERE u.username = ?",
        "ingrid",
    ) == [("agent", "Service Desk")]
    listed = agentdesk("users", "list", "--db", sqlite_url(accounts_db))
    assert "ingrid\tagent\tService Desk\tIngrid Solberg" in listed.stdout.splitlines()


def test_password_is_stored_only_as_an_argon2id_hash(accounts_db: Path) -> None:
    # Given a user added with a password on standard input
    result = add_user(accounts_db, "marco", "--role", "engineer", "--department", "Service Desk")
    assert result.returncode == 0, result.stderr

    # When the database files are read byte for byte
    stored = b"".join(p.read_bytes() for p in accounts_db.parent.glob(f"{accounts_db.name}*"))
    [(password_hash,)] = query(
        accounts_db, "SELECT password_hash FROM users WHERE username = ?", "marco"
    )

    # Then the user's hash is Argon2id, and the password itself is nowhere
    assert password_hash.startswith("$argon2id$")
    assert PASSWORD.encode() not in stored


def test_user_in_an_unknown_department_is_refused_in_one_line(accounts_db: Path) -> None:
    # Given a department name that does not exist
    # When an agent is added to it
    result = add_user(accounts_db, "tom", "--role", "agent", "--department", "Nowhere")

    # Then exit status 2 and one line naming the department field; nobody was added
    assert_one_line_error(result, "department")
    assert "'Nowhere'" in result.stderr
    assert query(accounts_db, "SELECT count(*) FROM users WHERE username = 'tom'") == [(0,)]


def test_short_password_is_refused_in_one_line(accounts_db: Path) -> None:
    # Given a password shorter than eight characters
    # When a user is added with it
    result = add_user(accounts_db, "anna", "--role", "supervisor", password="kort")

    # Then exit status 2 and one line naming the password field; nobody was added
    assert_one_line_error(result, "password")
    assert "at least 8 characters" in result.stderr
    assert query(accounts_db, "SELECT count(*) FROM users WHERE username = 'anna'") == [(0,)]


# --- profiles -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A database the demo sheets were imported into, and what the import printed."""
    path = tmp_path_factory.mktemp("profiles") / "server.sqlite"
    result = agentdesk("profiles", "import", str(DEMO_JSON), "--db", sqlite_url(path))
    assert result.returncode == 0, result.stderr
    return path, result.stdout


def test_import_of_the_demo_set_creates_every_sheet_and_its_departments(
    demo_db: tuple[Path, str],
) -> None:
    # Given the demo set imported into an empty database
    path, printed = demo_db

    # When the report and the database are read
    [(count,)] = query(path, "SELECT count(*) FROM customers")

    # Then every sheet was created, with the departments the sheets name
    assert "45 created, 0 updated, 0 unchanged" in printed
    assert "new departments: Service Desk, Field Service" in printed
    assert count == 45


def test_importing_the_same_file_again_reports_unchanged_not_duplicates(
    demo_db: tuple[Path, str],
) -> None:
    # Given the demo set already imported
    path, _ = demo_db
    [(versions_before,)] = query(path, "SELECT sum(version) FROM customers")

    # When it is imported again
    result = agentdesk("profiles", "import", str(DEMO_JSON), "--db", sqlite_url(path))

    # Then every sheet is unchanged, none duplicated and none given a new version
    assert result.returncode == 0, result.stderr
    assert "0 created, 0 updated, 45 unchanged" in result.stdout
    assert query(path, "SELECT count(*), sum(version) FROM customers") == [(45, versions_before)]


def test_import_of_a_bad_json_file_lists_every_problem_and_imports_nothing(
    demo_db: tuple[Path, str], tmp_path: Path
) -> None:
    # Given a file with two good sheets and three mistakes in two others
    path, _ = demo_db
    good = [{"id": str(uuid.uuid4()), "name": f"Ola Nordmann {i}"} for i in range(2)]
    bad = [
        {"name": "", "tier": "C"},
        {"name": "Kari", "devices": [{"ip_addresses": ["10.0.0.1", "10.0.0.300"]}]},
    ]
    file = tmp_path / "bad.json"
    file.write_text(json.dumps({"customers": [good[0], *bad, good[1]]}), encoding="utf-8")

    # When it is imported
    result = agentdesk("profiles", "import", str(file), "--db", sqlite_url(path))

    # Then exit status 1, every problem printed with where it is, and nothing imported
    assert result.returncode == 1
    assert "nothing imported" in result.stderr
    for problem in (
        "customers[1]: name:",
        "customers[1]: tier:",
        "customers[2]: devices[0].ip_addresses[1]:",
    ):
        assert problem in result.stderr
    assert query(path, "SELECT count(*) FROM customers") == [(45,)]


def test_import_of_a_bad_csv_file_names_lines_and_columns(
    demo_db: tuple[Path, str], tmp_path: Path
) -> None:
    # Given a CSV with a row without id on line 3 and a credential column
    path, _ = demo_db
    file = tmp_path / "bad.csv"
    file.write_text(f"id,name,admin_pwd\n{uuid.uuid4()},Ola,x\n,Kari,y\n", encoding="utf-8")

    # When it is imported
    result = agentdesk("profiles", "import", str(file), "--db", sqlite_url(path))

    # Then exit status 1 with the credential column named on the header line
    assert result.returncode == 1
    assert "line 1: admin_pwd: credentials are never stored" in result.stderr
    assert query(path, "SELECT count(*) FROM customers") == [(45,)]


def test_import_of_a_missing_file_is_refused_in_one_line(tmp_path: Path) -> None:
    # Given a file name that does not exist
    # When it is imported
    result = agentdesk(
        "profiles", "import", str(tmp_path / "nope.json"), "--db", sqlite_url(tmp_path / "db")
    )

    # Then exit status 2 and one line naming the file
    assert_one_line_error(result, "file")


def test_import_of_a_file_that_is_not_utf8_names_the_line(
    demo_db: tuple[Path, str], tmp_path: Path
) -> None:
    # Given a CSV saved in Windows-1252, not UTF-8
    path, _ = demo_db
    file = tmp_path / "latin1.csv"
    file.write_bytes(f"id,name\n{uuid.uuid4()},Bjørn Ødegård\n".encode("cp1252"))

    # When it is imported
    result = agentdesk("profiles", "import", str(file), "--db", sqlite_url(path))

    # Then exit status 1 with the line and what to do, no traceback, nothing imported
    assert result.returncode == 1
    assert "line 2: encoding: the file is not UTF-8: save it as CSV UTF-8" in result.stderr
    assert "Traceback" not in result.stderr
    assert query(path, "SELECT count(*) FROM customers") == [(45,)]


def test_export_into_a_missing_folder_is_refused_in_one_line(
    demo_db: tuple[Path, str], tmp_path: Path
) -> None:
    # Given a file name in a folder that does not exist
    path, _ = demo_db
    target = tmp_path / "no-such-folder" / "customers.json"

    # When sheets are exported to it
    result = agentdesk("profiles", "export", str(target), "--db", sqlite_url(path))

    # Then exit status 2 and one line naming the file
    assert_one_line_error(result, "file")
    assert "does not exist" in result.stderr


def test_export_to_an_unknown_format_is_refused_in_one_line(
    demo_db: tuple[Path, str], tmp_path: Path
) -> None:
    # Given a file name without a known extension
    path, _ = demo_db

    # When sheets are exported to it
    result = agentdesk("profiles", "export", str(tmp_path / "x.dat"), "--db", sqlite_url(path))

    # Then exit status 2 and nothing written
    assert result.returncode == 2
    assert "format" in result.stderr
    assert not (tmp_path / "x.dat").exists()


@pytest.mark.parametrize("suffix", ["json", "csv"])
def test_export_and_reimport_into_an_empty_database_gives_identical_sheets(
    demo_db: tuple[Path, str], tmp_path: Path, suffix: str
) -> None:
    # Given the demo sheets exported to a file
    path, _ = demo_db
    exported = tmp_path / f"export.{suffix}"
    result = agentdesk("profiles", "export", str(exported), "--db", sqlite_url(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("exported 45 sheets")

    # When that file is imported into a second, empty database and exported again as JSON
    second = tmp_path / "second.sqlite"
    imported = agentdesk("profiles", "import", str(exported), "--db", sqlite_url(second))
    again = tmp_path / "again.json"
    agentdesk("profiles", "export", str(again), "--db", sqlite_url(second))

    # Then both databases hold the same sheets, and they are the demo set's sheets
    assert "45 created" in imported.stdout, imported.stderr
    first_sheets, second_sheets = read_profiles(exported), read_profiles(again)
    if suffix == "json":
        assert second_sheets == first_sheets
    assert without_device_ids(second_sheets) == without_device_ids(first_sheets)
    demo_by_id = {s.id: s for s in without_device_ids(read_profiles(DEMO_JSON))}
    assert without_device_ids(second_sheets) == [demo_by_id[s.id] for s in second_sheets]


def test_a_supervisor_publishes_a_script_that_desks_receive(tmp_path: Path) -> None:
    from agentdesk.server.db import make_engine, migrate, session_factory
    from agentdesk.server.scripts import newest

    db = f"sqlite:///{tmp_path / 'server.sqlite'}"
    migrate(make_engine(db))
    english = Path(__file__).resolve().parent.parent / "scripts_library" / "en" / "call.yaml"
    text = english.read_text(encoding="utf-8").replace("version: 1", "version: 2")
    newer = tmp_path / "call.yaml"
    newer.write_text(text, encoding="utf-8")

    done = agentdesk("scripts", "publish", str(newer), "--db", db)
    again = agentdesk("scripts", "publish", str(newer), "--db", db)
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        text.replace("version: 2", "version: 3").replace("next: name", "next: nowhere"), "utf-8"
    )
    refused = agentdesk("scripts", "publish", str(broken), "--db", db)

    assert done.returncode == 0 and "published call (en) version 2" in done.stdout
    assert again.returncode == 2 and "raise 'version' above 2" in again.stderr
    assert refused.returncode == 2 and "leads to 'nowhere'" in refused.stderr
    engine = make_engine(db)
    with session_factory(engine)() as session:
        found = newest(session)
    assert [(s.id, s.language, s.version) for s in found] == [("call", "en", 2)]


def test_the_demo_is_prepared_once_with_messages_for_the_demo_agent(tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from agentdesk.demo import prepare_demo
    from agentdesk.domain.messages import is_overdue
    from agentdesk.server.db import make_engine, session_factory
    from agentdesk.server.messages import message_record
    from agentdesk.server.models import Message, Visit
    from agentdesk.server.visits import visit_record

    db_url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    # Given the demo prepared twice (as every `make run` does)
    prepare_demo(db_url)
    prepare_demo(db_url)
    # Then the demo agent has two messages: one to call back, one already overdue
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 2
        records = [message_record(m) for m in session.scalars(select(Message))]
    engine.dispose()
    assert {r["for_user"] for r in records} == {"ingrid"}
    now = dt.datetime.now(dt.UTC)
    assert sorted(is_overdue(r, now) for r in records) == [False, True]
    # And Marco has one visit to make, to Bjørn Ødegård
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        visits = [visit_record(v) for v in session.scalars(select(Visit))]
    engine.dispose()
    assert [(v["engineer"], v["customer_name"]) for v in visits] == [("marco", "Bjørn Ødegård")]


def test_rehearse_lists_the_scenarios_with_their_caller_lines() -> None:
    listed = agentdesk("rehearse", "list", "--lang", "en")
    assert listed.returncode == 0, listed.stderr
    scenarios = json.loads(listed.stdout)
    greeting = next(s for s in scenarios if s["id"] == "greeting")
    assert greeting["caller_lines"] == ["(The phone rings for the second time.)"]
    assert len(scenarios) >= 13


def test_rehearse_scores_exactly_the_turns_given() -> None:
    replies = {"turns": ["May I say who is calling?", "Ola is at lunch. Call later."]}
    scored = agentdesk(
        "rehearse", "score", "--scenario", "take-message", "--lang", "en", stdin=json.dumps(replies)
    )
    assert scored.returncode == 0, scored.stderr
    result = json.loads(scored.stdout)
    assert result["scenario"] == "take-message" and len(result["turns"]) == 2
    assert result["turns"][0]["passed"] is True
    second = result["turns"][1]
    assert second["passed"] is False
    kinds = {f["kind"] for f in second["findings"]}
    assert {"missing", "avoid"} <= kinds
    assert all({"kind", "reason", "suggestion"} == set(f) for f in second["findings"])
    # Bad input is one clear line, not a traceback
    bad = agentdesk("rehearse", "score", "--scenario", "nope", "--lang", "en", stdin="{}")
    assert bad.returncode != 0 and "no scenario 'nope'" in bad.stderr
    junk = agentdesk("rehearse", "score", "--scenario", "greeting", "--lang", "en", stdin="[1")
    assert junk.returncode != 0 and "not JSON" in junk.stderr
