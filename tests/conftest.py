"""Shared fixtures: a real PostgreSQL cluster, and the real server as a child process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from agentdesk.server.accounts import create_user, department_named
from agentdesk.server.db import make_engine, migrate, session_factory

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-secret-key-that-is-long-enough-for-hs256-signing"

# Every test process keeps its files away from the user's real data folder.
os.environ.setdefault("AGENTDESK_DATA_DIR", str(Path("/tmp") / f"agentdesk-tests-{os.getpid()}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return candidates[0].parent if candidates else None


@dataclass
class PgCluster:
    """A throw-away PostgreSQL server on loopback, trusted for user ``postgres``."""

    bin_dir: Path
    data_dir: Path
    port: int
    run_as: list[str] = field(default_factory=list)

    def _run(self, *args: str) -> None:
        subprocess.run([*self.run_as, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-o",
            f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 -F "
            "-c max_connections=200",
            "-l",
            str(self.data_dir / "server.log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as conn:
            conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
        return self.url(name)


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgCluster]:
    bin_dir = _pg_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are missing: run `make system-deps`")
        pytest.skip("PostgreSQL server binaries are not installed (make system-deps)")
    base = Path("/tmp") / f"agentdesk-pg-{uuid.uuid4().hex[:8]}"
    base.mkdir(mode=0o700)
    run_as: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root; run it as the postgres system user.
        shutil.chown(base, "postgres", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data_dir = base / "data"
    subprocess.run(
        [
            *run_as,
            str(bin_dir / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    cluster = PgCluster(bin_dir=bin_dir, data_dir=data_dir, port=free_port(), run_as=run_as)
    cluster.start()
    yield cluster
    cluster.stop()
    shutil.rmtree(base, ignore_errors=True)


# --- the server ---------------------------------------------------------------------------


@dataclass
class ServerProcess:
    """``agentdesk server`` running as a real process on loopback."""

    db_url: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    #: Extra environment for the server (its ``AGENTDESK_*`` settings).
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        env = {
            **os.environ,
            "AGENTDESK_SECRET_KEY": SECRET,
            "PYTHONIOENCODING": "utf-8",
            **self.env,
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentdesk",
                "server",
                "--db",
                self.db_url,
                "--port",
                str(self.port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"server exited with {self.proc.returncode}: {err}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"server on {self.url} did not come up in {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            if self.proc.stderr:
                self.proc.stderr.close()
            self.proc = None


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    role: str
    department: str | None


def seed(db_url: str) -> dict[str, Account]:
    """Departments ``North`` and ``South`` and one account per role, in a fresh database."""
    engine = make_engine(db_url)
    migrate(engine)
    accounts = {
        "agent": Account("agent.north", "agent-pass-1", "agent", "North"),
        "agent_south": Account("agent.south", "agent-pass-2", "agent", "South"),
        "engineer": Account("engineer", "engineer-pass", "engineer", "North"),
        "trainee": Account("trainee", "trainee-pass", "trainee", "North"),
        "supervisor": Account("boss", "supervisor-pass", "supervisor", None),
        "admin": Account("root.admin", "admin-pass-99", "admin", None),
    }
    with session_factory(engine)() as session, session.begin():
        for dept in ("North", "South"):
            department_named(session, dept, create=True)
        for account in accounts.values():
            create_user(
                session,
                username=account.username,
                password=account.password,
                role=account.role,
                full_name=account.username.title(),
                department=account.department or "",
            )
    engine.dispose()
    return accounts


@dataclass
class LiveServer:
    """A seeded database and the server process serving it."""

    backend: str
    db_url: str
    process: ServerProcess
    accounts: dict[str, Account]

    @property
    def url(self) -> str:
        return self.process.url

    def token(self, role: str = "agent") -> str:
        account = self.accounts[role]
        response = httpx.post(
            f"{self.url}/api/v1/auth/login",
            json={"username": account.username, "password": account.password},
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def http(self, role: str = "agent") -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token(role)}"}, timeout=30
        )


def _database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "postgresql":
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        return cluster.new_database()
    return f"sqlite:///{tmp_path / 'server.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The real server on each database backend, shared by the tests of one module."""
    backend: str = request.param
    db_url = _database_url(backend, tmp_path_factory.mktemp(backend), request)
    accounts = seed(db_url)
    process = ServerProcess(db_url)
    process.start()
    yield LiveServer(backend, db_url, process, accounts)
    process.stop()


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A fresh real server on SQLite, for one test that may stop and restart it."""
    db_url = f"sqlite:///{tmp_path / 'server.sqlite'}"
    accounts = seed(db_url)
    process = ServerProcess(db_url)
    process.start()
    yield LiveServer("sqlite", db_url, process, accounts)
    process.stop()


@pytest.fixture
def customer_factory() -> Callable[..., dict[str, object]]:
    """Valid sheet data with a unique name; keyword arguments override fields."""

    def make(**overrides: object) -> dict[str, object]:
        unique = uuid.uuid4().hex[:8]
        data: dict[str, object] = {
            "id": str(uuid.uuid4()),
            "name": f"Kari Nordmann {unique}",
            "phones": [{"label": "office", "number": "+47 22 33 44 55"}],
            "email": f"kari.{unique}@example.no",
            "organisation": "Oslo kommune",
            "location": "Rådhuset, 2. etasje",
            "tier": "B",
            "account_manager": "Per Hansen",
            "language": "nb",
            "timezone": "Europe/Oslo",
            "department": "North",
            "devices": [
                {
                    "computer_name": f"OSL-{unique}",
                    "cpu": "Intel Core i5-1245U",
                    "memory": "16 GB",
                    "disk": "512 GB NVMe SSD",
                    "network_card": "Intel Wi-Fi 6E AX211",
                    "os": "Windows 11 Pro",
                    "software": ["Visma Business", "Microsoft 365"],
                    "ip_addresses": ["10.1.2.3"],
                }
            ],
        }
        data.update(overrides)
        return data

    return make


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the measured phrase-coach accuracy and rehearsal agreement on every run."""
    from tests.domain.test_coach import ACCURACY

    if ACCURACY:
        terminalreporter.section("phrase coach accuracy")
        for lang, figure in sorted(ACCURACY.items()):
            terminalreporter.write_line(f"{lang}: {figure}")
    from tests.domain.test_rehearsal_corpus import AGREEMENT

    if AGREEMENT:
        terminalreporter.section("rehearsal scorer agreement")
        for lang, figure in sorted(AGREEMENT.items()):
            terminalreporter.write_line(f"{lang}: {figure}")
    from tests.faultproxy import FIGURES

    if FIGURES:
        terminalreporter.section("reliability: faults injected, records lost and doubled")
        for name, figure in sorted(FIGURES.items()):
            terminalreporter.write_line(f"{name}: {figure}")
