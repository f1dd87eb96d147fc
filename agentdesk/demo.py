"""``make run``: the embedded server with demo data, and a desk signed in as a demo agent."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentdesk.domain.training import find
from agentdesk.profiles import read_profiles
from agentdesk.server.accounts import create_user, department_named, viewer_for
from agentdesk.server.admin import import_sheets
from agentdesk.server.db import make_engine, migrate, session_factory
from agentdesk.server.messages import apply_message_mutation
from agentdesk.server.models import Attempt, Customer, Message, User, Visit
from agentdesk.server.telephony import rotate_bridge_token
from agentdesk.server.training import apply_assignment_mutation, apply_attempt_mutation
from agentdesk.server.visits import apply_visit_mutation
from agentdesk.wire import Mutation

ROOT = Path(__file__).resolve().parent.parent
DEMO_PROFILES = ROOT / "customer_profiles" / "demo" / "customers.json"


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: str
    department: str
    password: str
    phone: str = ""
    timezone: str = "Europe/Oslo"


#: Demo accounts; their passwords are public on purpose and only ever used for the demo.
DEMO_USERS = (
    DemoUser("ingrid", "Ingrid Solberg", "agent", "Service Desk", "demo-agent-1", "+4721000011"),
    # Works the Asian customers' hours from the Shanghai office.
    DemoUser(
        "li.wei", "李伟", "agent", "Service Desk", "demo-agent-2", "+4721000012", "Asia/Shanghai"
    ),
    DemoUser("marco", "Marco Rossi", "engineer", "Field Service", "demo-engineer", "+4721000031"),
    DemoUser(
        "anna", "Anna Virtanen", "supervisor", "Service Desk", "demo-supervisor", "+4721000010"
    ),
    DemoUser("tom", "Tom Berg", "trainee", "Service Desk", "demo-trainee"),
)
DEMO_AGENT = DEMO_USERS[0]


DEMO_BRIDGE = "Demo phone system"


def prepare_demo(db_url: str, profiles: Path = DEMO_PROFILES) -> tuple[str, str]:
    """Migrate the database, add demo departments and users, load the demo sheets.

    Returns what the import did, and a fresh token for the demo phone system.
    """
    engine = make_engine(db_url)
    migrate(engine)
    sessions = session_factory(engine)
    sheets = read_profiles(profiles)
    with sessions() as session, session.begin():
        for dept in ("Service Desk", "Field Service"):
            department_named(session, dept, create=True)
        for user in DEMO_USERS:
            if session.scalar(select(User).where(User.username == user.username)) is None:
                create_user(
                    session,
                    username=user.username,
                    password=user.password,
                    role=user.role,
                    full_name=user.full_name,
                    department=user.department,
                    phone=user.phone,
                    timezone=user.timezone,
                )
        report = import_sheets(session, sheets)
        token = rotate_bridge_token(session, DEMO_BRIDGE)
        if session.scalar(select(Message.id).limit(1)) is None:
            _demo_messages(session)
        if session.scalar(select(Visit.id).limit(1)) is None:
            _demo_visit(session)
        if session.scalar(select(Attempt.id).limit(1)) is None:
            _demo_training(session)
    engine.dispose()
    return str(report), token


def _demo_messages(session: Session) -> None:
    """Two messages 李伟 took for the demo agent: one to call back tomorrow, one whose
    window closed this morning without a call (escalated)."""
    taker = session.scalar(select(User).where(User.username == "li.wei"))
    if taker is None:
        return
    viewer = viewer_for(taker)
    oslo = ZoneInfo("Europe/Oslo")
    today = dt.datetime.now(oslo).date()
    tomorrow = today + dt.timedelta(days=1)

    def at(day: dt.date, hour: int, zone: ZoneInfo = oslo) -> str:
        return dt.datetime.combine(day, dt.time(hour), tzinfo=zone).isoformat()

    shanghai = ZoneInfo("Asia/Shanghai")
    messages = [
        {
            "first_name": "Astrid",
            "last_name": "Haugen",
            "organisation": "Bergen Havnevesen",
            "phone": "+47 55 56 78 90",
            "message": "Skriveren i 2. etasje skriver ut tomme ark etter oppdateringen.",
            "urgency": "normal",
            "callback_after": at(tomorrow, 9),
            "callback_before": at(tomorrow, 11),
            "caller_timezone": "Europe/Oslo",
            "language": "nb",
        },
        {
            "first_name": "娜",
            "last_name": "陈",
            "organisation": "上海远东贸易有限公司",
            "phone": "+86 21 6321 1234",
            "message": "VPN 连接每小时断开一次,需要工程师回电。",
            "urgency": "urgent",
            "callback_after": at(today - dt.timedelta(days=1), 14, shanghai),
            "callback_before": at(today - dt.timedelta(days=1), 16, shanghai),
            "caller_timezone": "Asia/Shanghai",
            "language": "zh_CN",
            "taken_at": at(today - dt.timedelta(days=1), 12, shanghai),
        },
    ]
    for fields in messages:
        mutation = Mutation(
            id=uuid.uuid4(),
            entity="message",
            entity_id=uuid.uuid4(),
            op="create",
            base_version=0,
            fields={**fields, "for_user": DEMO_AGENT.username},
        )
        apply_message_mutation(session, viewer, mutation)


def _demo_visit(session: Session) -> None:
    """Marco's visit tomorrow morning to Bjørn Ødegård's clicking disk, scheduled by Anna."""
    supervisor = session.scalar(select(User).where(User.username == "anna"))
    customer = session.scalar(select(Customer).where(Customer.name == "Bjørn Ødegård"))
    if supervisor is None or customer is None:
        return
    oslo = ZoneInfo("Europe/Oslo")
    day = dt.datetime.now(oslo).date() + dt.timedelta(days=1)
    computer = (customer.data.get("devices") or [{}])[0].get("computer_name", "")
    fields = {
        "customer_id": customer.id,
        "device": computer,
        "fault": "Disken klikker og maskinen henger ved oppstart. Ingen ny sikkerhetskopi.",
        "window_start": dt.datetime.combine(day, dt.time(10), tzinfo=oslo).isoformat(),
        "window_end": dt.datetime.combine(day, dt.time(12), tzinfo=oslo).isoformat(),
        "engineer": "marco",
    }
    mutation = Mutation(
        id=uuid.uuid4(),
        entity="visit",
        entity_id=uuid.uuid4(),
        op="create",
        base_version=0,
        fields=fields,
    )
    apply_visit_mutation(session, viewer_for(supervisor), mutation)


#: Tom's rehearsals over the last two weeks: (days ago, scenario, turns answered weakly).
DEMO_REHEARSALS = (
    (13, "greeting", (0,)),
    (12, "hold", (0,)),
    (11, "take-message", (1, 2)),
    (9, "greeting", ()),
    (8, "complaint-response-time", (0, 1)),
    (7, "check-back", (0,)),
    (6, "take-message", (2,)),
    (5, "complaint-response-time", (1,)),
    (4, "hold", ()),
    (3, "closing", (0,)),
    (2, "take-message", ()),
    (1, "check-back", ()),
)


def _beginner(model: str) -> str:
    """What a beginner says: the model answer's first sentence, then a word to avoid."""
    first = re.split(r"(?<=[.?!])\s", model, maxsplit=1)[0]
    return f"{first} I'll sort it out ASAP."


def _demo_training(session: Session) -> None:
    """Tom's progress: a dozen rehearsals that get better, reviewed by Anna, and two
    scenarios she assigned (one done, one to do)."""
    tom = session.scalar(select(User).where(User.username == "tom"))
    anna = session.scalar(select(User).where(User.username == "anna"))
    if tom is None or anna is None:
        return
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def mutation(entity: str, entity_id: uuid.UUID, op: str, fields: dict[str, Any]) -> Mutation:
        return Mutation(
            id=uuid.uuid4(),
            entity=entity,
            entity_id=entity_id,
            op=op,
            base_version=0,
            fields=fields,
        )

    done = mutation(
        "assignment",
        uuid.uuid4(),
        "create",
        {"trainee": "tom", "scenario": "check-back", "language": "en", "note": "30–40 s"},
    )
    row = apply_assignment_mutation(session, viewer_for(anna), done)
    row.data = {**row.data, "assigned_at": (now - dt.timedelta(days=8)).isoformat()}
    for days_ago, scenario_id, weak in DEMO_REHEARSALS:
        scenario = find(scenario_id, "en")
        if scenario is None:
            continue
        replies = [
            _beginner(turn.model) if index in weak else turn.model
            for index, turn in enumerate(scenario.turns)
        ]
        finished = now - dt.timedelta(days=days_ago, hours=3)
        fields = {
            "scenario": scenario_id,
            "language": "en",
            "replies": replies,
            "seconds": [12.0] * len(replies),
            "started_at": (finished - dt.timedelta(minutes=4)).isoformat(),
        }
        attempt = apply_attempt_mutation(
            session, viewer_for(tom), mutation("attempt", uuid.uuid4(), "create", fields)
        )
        attempt.finished_at = finished
        attempt.data = {**attempt.data, "finished_at": finished.isoformat()}
        if days_ago == 8:
            review = {"text": "Apologise first, then move straight to what you will do."}
            apply_attempt_mutation(
                session,
                viewer_for(anna),
                mutation("attempt", uuid.UUID(attempt.id), "review", review),
            )
    due = now + dt.timedelta(days=3)
    to_do = {
        "trainee": "tom",
        "scenario": "repeat-complaint",
        "language": "en",
        "due": due.isoformat(),
        "note": "Use the caller's name three times",
    }
    apply_assignment_mutation(
        session, viewer_for(anna), mutation("assignment", uuid.uuid4(), "create", to_do)
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """Linux: the embedded server ends when the desk ends, even if the desk is killed."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


@contextlib.contextmanager
def server_process(
    db_url: str, port: int, *, timeout: float = 30.0, env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Run ``agentdesk server`` as a child process until the block ends; yields its URL.

    ``env`` adds to the environment (``AGENTDESK_*`` settings, e.g. a signing key that
    several processes share).
    """
    url = f"http://127.0.0.1:{port}"
    # The demo help desk has a name to say in the greeting (a real site sets its own).
    env = {
        "AGENTDESK_ORGANISATION": "Nordlys IT",
        **os.environ,
        **(env or {}),
        "PYTHONIOENCODING": "utf-8",
    }
    proc = subprocess.Popen(
        [*_program(), "server", "--db", db_url, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server stopped at start-up (exit code {proc.returncode})")
            try:
                if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _program() -> list[str]:
    # A frozen build is its own interpreter: the command line is the program itself.
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "agentdesk"]


@contextlib.contextmanager
def simulated_calls(url: str, token: str) -> Iterator[None]:
    """Run ``agentdesk simulate-calls`` against the demo server until the block ends."""
    env = {**os.environ, "AGENTDESK_BRIDGE_TOKEN": token, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen(
        [*_program(), "simulate-calls", "--server", url, "--mean-gap", "25"],
        env=env,
        stdout=subprocess.DEVNULL,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
    )
    try:
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_demo(*, db_url: str, port: int = 0, desk: Callable[..., int] | None = None) -> int:
    """Prepare the demo database, start the server, and open the desk (or wait)."""
    print("AgentDesk demo: preparing the database…", flush=True)
    report, token = prepare_demo(db_url)
    print(f"  {report}", flush=True)
    with server_process(db_url, port or free_port()) as url, simulated_calls(url, token):
        print(f"AgentDesk demo: server on {url}; simulated calls arriving", flush=True)
        if desk is None:
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
            return 0
        print(f"  signed in as {DEMO_AGENT.full_name} ({DEMO_AGENT.username})", flush=True)
        return desk(server=url, username=DEMO_AGENT.username, password=DEMO_AGENT.password)
