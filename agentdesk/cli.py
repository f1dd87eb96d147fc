"""The ``agentdesk`` command: the desk, the server, the demo and the supervisor's tools."""

from __future__ import annotations

import argparse
import getpass
import importlib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agentdesk import __version__
from agentdesk.paths import embedded_db_url

MAX_DEPARTMENT_NAME = 100  # the width of departments.name


class CommandError(Exception):
    """A mistake on the command line, reported in one line without a traceback."""


def _default_db() -> str:
    return os.environ.get("AGENTDESK_DB") or embedded_db_url()


def _open_db(url: str):  # type: ignore[no-untyped-def]
    from agentdesk.server.db import make_engine, migrate, session_factory

    engine = make_engine(url)
    migrate(engine)
    return session_factory(engine)


# --- server -------------------------------------------------------------------------------


def cmd_server(args: argparse.Namespace) -> int:
    import uvicorn

    from agentdesk.runtime import freeze_start_up
    from agentdesk.server.app import create_app
    from agentdesk.server.config import ServerSettings

    try:
        settings = ServerSettings(db_url=args.db)
    except ValueError as exc:  # a setting in the environment is out of range
        raise CommandError(str(exc)) from None
    if bool(args.tls_cert) != bool(args.tls_key):
        raise CommandError("--tls-cert and --tls-key go together")
    app = create_app(settings)
    freeze_start_up()
    scheme = "https" if args.tls_cert else "http"
    print(f"AgentDesk server on {scheme}://{args.host}:{args.port}", flush=True)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        ssl_certfile=args.tls_cert,
        ssl_keyfile=args.tls_key,
    )
    return 0


# --- users and departments ----------------------------------------------------------------


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != first:
            raise CommandError("password: the two entries differ")
        return first
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def cmd_users_add(args: argparse.Namespace) -> int:
    from agentdesk.server.accounts import AccountError, create_user

    password = _read_password()
    sessions = _open_db(args.db)
    try:
        with sessions() as session, session.begin():
            user = create_user(
                session,
                username=args.name,
                password=password,
                role=args.role,
                full_name=args.full_name or "",
                department=args.department or "",
                phone=args.phone or "",
                timezone=args.timezone or "",
            )
            print(f"created {user.role} {user.username} ({user.full_name})")
    except AccountError as exc:
        raise CommandError(str(exc)) from None
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from agentdesk.server.models import Department, User

    sessions = _open_db(args.db)
    with sessions() as session:
        depts = {d.id: d.name for d in session.scalars(select(Department))}
        for user in session.scalars(select(User).order_by(User.username)):
            dept = depts.get(user.department_id, "-") if user.department_id else "-"
            state = "" if user.active else " (disabled)"
            print(f"{user.username}\t{user.role}\t{dept}\t{user.full_name}{state}")
    return 0


def cmd_departments_add(args: argparse.Namespace) -> int:
    from agentdesk.server.admin import add_department

    name = args.name.strip()
    if not name:
        raise CommandError("name: is required: give the department's name")
    if len(name) > MAX_DEPARTMENT_NAME:
        raise CommandError(f"name: is too long: at most {MAX_DEPARTMENT_NAME} characters")
    sessions = _open_db(args.db)
    try:
        with sessions() as session, session.begin():
            add_department(session, name)
    except ValueError as exc:
        raise CommandError(f"name: {exc}") from None
    print(f"created department {name}")
    return 0


def cmd_departments_list(args: argparse.Namespace) -> int:
    from agentdesk.server.models import Department

    sessions = _open_db(args.db)
    with sessions() as session:
        for dept in session.scalars(select(Department).order_by(Department.name)):
            print(dept.name)
    return 0


# --- bridges ------------------------------------------------------------------------------


def cmd_bridges_add(args: argparse.Namespace) -> int:
    from agentdesk.domain.errors import ValidationFailed
    from agentdesk.server.telephony import add_bridge

    sessions = _open_db(args.db)
    try:
        with sessions() as session, session.begin():
            bridge, token = add_bridge(session, args.name)
            name = bridge.name
    except ValidationFailed as exc:
        raise CommandError(str(exc)) from None
    print(f"created bridge {name}; its token (shown only now, keep it secret):", file=sys.stderr)
    print(token)
    return 0


def cmd_bridges_list(args: argparse.Namespace) -> int:
    from agentdesk.server.models import Bridge

    sessions = _open_db(args.db)
    with sessions() as session:
        for bridge in session.scalars(select(Bridge).order_by(Bridge.name)):
            state = "" if bridge.active else " (disabled)"
            print(f"{bridge.name}{state}")
    return 0


def cmd_simulate_calls(args: argparse.Namespace) -> int:
    import asyncio
    import random

    from agentdesk.simulator import CallSimulator, Traffic, known_callers

    token = args.token or os.environ.get("AGENTDESK_BRIDGE_TOKEN", "")
    if not token:
        raise CommandError("token: give --token or set AGENTDESK_BRIDGE_TOKEN")
    profiles = Path(args.profiles)
    if not profiles.is_file():
        raise CommandError(f"profiles: {profiles} does not exist")
    traffic = Traffic(mean_gap=args.mean_gap, rng=random.Random(args.seed))

    async def simulate() -> None:
        simulator = CallSimulator(args.server, token, known_callers(profiles), traffic)
        try:
            tally = await simulator.run(count=args.count, duration=args.duration)
        finally:
            await simulator.aclose()
        print(
            f"{tally.offered} calls offered, {tally.abandoned} abandoned, "
            f"{tally.ended} ended, {tally.errors} events not delivered"
        )

    asyncio.run(simulate())
    return 0


# --- profiles -----------------------------------------------------------------------------


def cmd_profiles_import(args: argparse.Namespace) -> int:
    from agentdesk.profiles import ProfileFileError, read_profiles
    from agentdesk.server.admin import import_sheets

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"file: {path} does not exist")
    try:
        sheets = read_profiles(path, args.format)
    except ProfileFileError as exc:
        print(f"agentdesk: {path}: nothing imported; fix these and try again:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    sessions = _open_db(args.db)
    with sessions() as session, session.begin():
        report = import_sheets(session, sheets)
    print(f"imported {len(sheets)} sheets from {path}: {report}")
    return 0


def cmd_profiles_export(args: argparse.Namespace) -> int:
    from agentdesk.profiles import ProfileFileError, guess_format, write_profiles
    from agentdesk.server.admin import export_sheets

    path = Path(args.file)
    try:
        guess_format(path, args.format)
    except ProfileFileError as exc:
        raise CommandError(str(exc)) from None
    if not path.parent.is_dir():
        raise CommandError(f"file: the folder {path.parent} does not exist")
    sessions = _open_db(args.db)
    with sessions() as session:
        sheets = export_sheets(session, args.department)
    try:
        write_profiles(path, sheets, args.format)
    except OSError as exc:
        raise CommandError(f"file: cannot write {path}: {exc.strerror or exc}") from None
    print(f"exported {len(sheets)} sheets to {path}")
    return 0


# --- the desk -----------------------------------------------------------------------------


def _ui(name: str) -> Callable[..., int]:
    """The desk lives in the ``ui`` package, loaded only when a desk is started."""
    module = importlib.import_module("ui.app")
    entry: Callable[..., int] = getattr(module, name)
    return entry


def _need_display() -> None:
    from agentdesk.display import display_problem

    problem = display_problem()
    if problem:
        raise CommandError(problem)


def cmd_desk(args: argparse.Namespace) -> int:
    _need_display()
    return _ui("run_desk")(server=args.server, username=args.user)


def cmd_demo(args: argparse.Namespace) -> int:
    from agentdesk.demo import run_demo

    if not args.no_desk:
        _need_display()
    return run_demo(
        db_url=args.db, port=args.port, desk=_ui("run_demo_desk") if not args.no_desk else None
    )


# --- parser -------------------------------------------------------------------------------


def cmd_scripts_check(args: argparse.Namespace) -> int:
    from agentdesk.domain.coach import check_rules
    from agentdesk.domain.rehearsal import check_scenarios
    from agentdesk.domain.scripts import LIBRARY, ScriptError, load_library, load_script

    target = Path(args.path) if args.path else LIBRARY
    problems: list[str] = []
    checked = 0
    if target.is_file():
        try:
            load_script(target)
            checked = 1
        except ScriptError as exc:
            problems.append(str(exc))
    elif target.is_dir():
        library = load_library(target)
        problems += library.problems
        checked = len(library.scripts) + len(library.problems)
        rules = sorted((target / "coach").glob("*.yaml"))
        problems += check_rules(rules)
        checked += len(rules)
        scenarios = target / "scenarios"
        problems += check_scenarios(scenarios)
        checked += len(list(scenarios.glob("*/*.yaml")))
    else:
        raise CommandError(f"{target}: no such file or folder")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{checked} files checked, {len(problems)} with errors")
    return 1 if problems else 0


def cmd_scripts_publish(args: argparse.Namespace) -> int:
    from agentdesk.domain.scripts import ScriptError
    from agentdesk.server.scripts import publish

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"{path}: cannot be read: {exc.strerror}") from None
    sessions = _open_db(args.db)
    try:
        with sessions() as session, session.begin():
            row = publish(session, path, text, by=os.environ.get("USER", ""))
            print(f"published {row.script_id} ({row.language}) version {row.version}")
    except ScriptError as exc:
        raise CommandError(str(exc)) from None
    return 0


def cmd_coach(args: argparse.Namespace) -> int:
    from agentdesk.domain.coach import RULES_DIR, CoachRulesError, language_of, load_coach

    try:
        lang = language_of(args.lang)
        coach = load_coach(lang, Path(args.rules) if args.rules else RULES_DIR)
    except (ValueError, CoachRulesError) as exc:
        raise CommandError(str(exc)) from None
    text = sys.stdin.read()
    findings = [f.as_json() for f in coach.findings(text)]
    print(json.dumps(findings, ensure_ascii=False, indent=2))
    return 0


def _scenarios(args: argparse.Namespace) -> list[Any]:
    from agentdesk.domain.rehearsal import SCENARIOS_DIR, ScenarioError, load_scenarios

    try:
        return load_scenarios(args.lang, Path(args.scenarios) if args.scenarios else SCENARIOS_DIR)
    except (ValueError, ScenarioError) as exc:
        raise CommandError(str(exc)) from None


def cmd_rehearse_list(args: argparse.Namespace) -> int:
    scenarios = [s.as_json() for s in _scenarios(args)]
    print(json.dumps(scenarios, ensure_ascii=False, indent=2))
    return 0


def cmd_rehearse_score(args: argparse.Namespace) -> int:
    from agentdesk.domain.rehearsal import find_scenario, score

    scenario = find_scenario(_scenarios(args), args.scenario)
    if scenario is None:
        raise CommandError(f"no scenario {args.scenario!r} in language {args.lang!r}")
    try:
        body = json.loads(sys.stdin.read() or "{}")
    except json.JSONDecodeError as exc:
        raise CommandError(f"standard input is not JSON: {exc}") from None
    turns = body.get("turns") if isinstance(body, dict) else None
    if not isinstance(turns, list) or not all(isinstance(t, str) for t in turns):
        raise CommandError('expected {"turns": ["reply 0", "reply 1", …]} on standard input')
    if len(turns) > len(scenario.turns):
        raise CommandError(
            f"{len(turns)} replies given; scenario {scenario.id!r} has {len(scenario.turns)} turns"
        )
    result = score(scenario, turns).as_json()
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentdesk", description="AgentDesk: the help-desk workspace and its server."
    )
    parser.add_argument("--version", action="version", version=f"AgentDesk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def db_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--db",
            default=_default_db(),
            metavar="URL",
            help="sqlite:///PATH or postgresql+psycopg://USER@HOST/DB "
            "(default: $AGENTDESK_DB or the embedded database)",
        )

    p = sub.add_parser("desk", help="open the desk")
    p.add_argument("--server", help="server URL to sign in to")
    p.add_argument("--user", help="user name to sign in as")
    p.set_defaults(func=cmd_desk)

    p = sub.add_parser("server", help="run the central server")
    db_option(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
    p.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--tls-key", help="the certificate's private key (PEM)")
    p.set_defaults(func=cmd_server)

    p = sub.add_parser("demo", help="embedded server with demo data, and the desk signed in")
    db_option(p)
    p.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    p.add_argument("--no-desk", action="store_true", help="only the server, for a browser or API")
    p.set_defaults(func=cmd_demo)

    users = sub.add_parser("users", help="manage users").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = users.add_parser("add", help="add a user; the password is read from standard input")
    p.add_argument("name")
    p.add_argument(
        "--role", required=True, choices=["agent", "engineer", "trainee", "supervisor", "admin"]
    )
    p.add_argument("--department")
    p.add_argument("--full-name")
    p.add_argument("--phone", help="direct number, with country code (+47 21 00 00 11)")
    p.add_argument("--timezone", help="where the user works, as an IANA name (Europe/Oslo)")
    db_option(p)
    p.set_defaults(func=cmd_users_add)
    p = users.add_parser("list", help="list users")
    db_option(p)
    p.set_defaults(func=cmd_users_list)

    depts = sub.add_parser("departments", help="manage departments").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = depts.add_parser("add", help="add a department")
    p.add_argument("name")
    db_option(p)
    p.set_defaults(func=cmd_departments_add)
    p = depts.add_parser("list", help="list departments")
    db_option(p)
    p.set_defaults(func=cmd_departments_list)

    bridges = sub.add_parser(
        "bridges", help="phone systems allowed to post call events"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    p = bridges.add_parser("add", help="register a phone system and print its token")
    p.add_argument("name")
    db_option(p)
    p.set_defaults(func=cmd_bridges_add)
    p = bridges.add_parser("list", help="list phone systems")
    db_option(p)
    p.set_defaults(func=cmd_bridges_list)

    p = sub.add_parser(
        "simulate-calls", help="post simulated phone traffic through the call ingress"
    )
    p.add_argument("--server", required=True, help="server URL")
    p.add_argument("--token", help="bridge token (or $AGENTDESK_BRIDGE_TOKEN)")
    p.add_argument(
        "--profiles",
        default=str(
            Path(__file__).resolve().parent.parent / "customer_profiles" / "demo" / "customers.json"
        ),
        help="sheet file whose numbers are the known callers",
    )
    p.add_argument("--count", type=int, help="stop after this many calls")
    p.add_argument("--duration", type=float, help="stop starting calls after this many seconds")
    p.add_argument("--mean-gap", type=float, default=20.0, help="mean seconds between calls")
    p.add_argument("--seed", type=int, help="repeat the same traffic")
    p.set_defaults(func=cmd_simulate_calls)

    profiles = sub.add_parser("profiles", help="import or export customer sheets").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = profiles.add_parser("import", help="import sheets from JSON or CSV (all or nothing)")
    p.add_argument("file")
    p.add_argument("--format", choices=["json", "csv"])
    db_option(p)
    p.set_defaults(func=cmd_profiles_import)
    p = profiles.add_parser("export", help="export sheets to JSON or CSV")
    p.add_argument("file")
    p.add_argument("--format", choices=["json", "csv"])
    p.add_argument("--department", help="only this department's sheets")
    db_option(p)
    p.set_defaults(func=cmd_profiles_export)

    scripts = sub.add_parser("scripts", help="the call scripts").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = scripts.add_parser(
        "check", help="validate the script library (and coach rules); errors name file and line"
    )
    p.add_argument("path", nargs="?", help="a script file or a library folder")
    p.set_defaults(func=cmd_scripts_check)
    p = scripts.add_parser(
        "publish", help="publish a new version of a script to every desk (checked first)"
    )
    p.add_argument("file")
    db_option(p)
    p.set_defaults(func=cmd_scripts_publish)

    p = sub.add_parser(
        "coach",
        help="find weak phrasing in text read from standard input (JSON findings on stdout)",
    )
    p.add_argument("--lang", required=True, help="en, zh (zh_CN) or nb")
    p.add_argument("--rules", help="folder of rule files (default: scripts_library/coach)")
    p.set_defaults(func=cmd_coach)

    rehearse = sub.add_parser(
        "rehearse", help="training scenarios: list them, or score a trainee's replies"
    ).add_subparsers(dest="rehearse_command", required=True, metavar="ACTION")
    p = rehearse.add_parser("list", help="print the scenarios of a language as JSON")
    p.add_argument("--lang", required=True, help="en, zh (zh_CN) or nb")
    p.add_argument("--scenarios", help="folder of scenarios (default: scripts_library/scenarios)")
    p.set_defaults(func=cmd_rehearse_list)
    p = rehearse.add_parser(
        "score",
        help='score {"turns": ["reply 0", …]} read from standard input (JSON result on stdout)',
    )
    p.add_argument("--scenario", required=True, help="the scenario id, e.g. greeting")
    p.add_argument("--lang", required=True, help="en, zh (zh_CN) or nb")
    p.add_argument("--scenarios", help="folder of scenarios (default: scripts_library/scenarios)")
    p.set_defaults(func=cmd_rehearse_score)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8")
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        argv = ["desk"]  # the program on its own opens the desk
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        result: int = args.func(args)
    except CommandError as exc:
        print(f"agentdesk: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result
