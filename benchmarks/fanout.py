"""``fanout_ms`` and ``write_rate``: the event stream of a big help desk, on PostgreSQL.

A throw-away PostgreSQL cluster (``initdb`` into a temporary directory, as the tests start
one) holds the server database. ``agentdesk server`` runs as child processes on it, sharing
one signing key, and 500 desk users follow ``GET /api/v1/events`` from client processes of
their own (raw asyncio sockets, HTTP/1.1, a few hundred streams per process).

- ``fanout_ms``: two server processes, the streams split across them; a phone system posts
  a call through the ingress (``POST /api/v1/telephony/events``), alternately to each
  process; the figure is the time from the post until each desk has read the call's
  ``contact`` event, over every (call, desk) pair. Both sides read ``time.time()`` on the
  same machine.
- ``write_rate``: one server process with the 500 streams; many desks push contact records
  at once through ``POST /api/v1/sync/push`` (the desk's own push of its outbox); the figure
  is records accepted per second. Every desk must then have heard exactly the records its
  department may see, so the rate is not bought by dropping events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final

import httpx

from agentdesk.demo import free_port, server_process
from agentdesk.server import security
from agentdesk.server.accounts import department_named
from agentdesk.server.db import make_engine, migrate, session_factory
from agentdesk.server.models import User
from agentdesk.server.telephony import add_bridge
from benchmarks.figures import Figure, Report, Scale, note, percentiles

NAMES: Final = ("fanout_ms", "write_rate")
FANOUT_P99_MS: Final = 100.0
WRITE_MIN_PER_S: Final = 1_000.0

CLIENTS: Final = 500
#: Streams per client process: few enough that the clients are never what is measured.
CLIENTS_PER_PROCESS: Final = 125
SERVERS: Final = 2
CALLS: Final = 60
WARMUP_CALLS: Final = 5
#: Seconds between calls, drawn at random: each call's fan-out is over before the next.
CALL_GAP_S: Final = (0.3, 0.6)
#: How long after the last call every desk must have heard it.
SETTLE_S: Final = 3.0
WRITERS: Final = 50
WRITE_BATCH: Final = 20
WRITE_SECONDS: Final = 20.0
WRITE_WARMUP_S: Final = 3.0
DEPARTMENTS: Final = ("Service Desk", "Field Service", "Nordics", "Asia Pacific")
SUPERVISORS: Final = 20
ENGINEERS: Final = 30
HEARTBEAT_S: Final = 15
TOKEN_MINUTES: Final = 240
#: The line of every ``contact`` event on the wire (what the counting clients count).
CALL_MARK: Final = b"event: contact\n"


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return candidates[0].parent if candidates else None


@dataclass
class Postgres:
    """A throw-away PostgreSQL server on loopback, trusted for user ``postgres``."""

    bin_dir: Path
    data_dir: Path
    port: int
    run_as: list[str]

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def pids(self) -> list[int]:
        """The postmaster and its children (backends, writer, WAL…), for their CPU time."""
        try:
            master = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return [master, *_children(master)]


def _run(cmd: Sequence[str]) -> None:
    subprocess.run(list(cmd), check=True, capture_output=True, timeout=120)


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    """initdb, start, yield; stopped and removed at the end, also on failure or Ctrl-C.

    Durable as in production (``fsync`` on, the defaults but for ``max_connections``).
    """
    bin_dir = _pg_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries are not installed (make system-deps)")
    base = Path(tempfile.mkdtemp(prefix="agentdesk-bench-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root; run it as the postgres system user.
        shutil.chown(base, "postgres", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data_dir = base / "data"
    cluster = Postgres(bin_dir, data_dir, free_port(), run_as)
    started = False
    try:
        _run(
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
            ]
        )
        pg_ctl = [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data_dir)]
        options = (
            f"-p {cluster.port} -k {data_dir} -c listen_addresses=127.0.0.1 -c max_connections=300"
        )
        _run([*pg_ctl, "-o", options, "-l", str(data_dir / "server.log"), "-w", "start"])
        started = True
        yield cluster
    finally:
        if started:
            try:
                _run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "stop"])
            except (subprocess.SubprocessError, OSError):
                with contextlib.suppress(subprocess.SubprocessError, OSError):
                    _run(
                        [
                            *run_as,
                            str(bin_dir / "pg_ctl"),
                            "-D",
                            str(data_dir),
                            "-m",
                            "immediate",
                            "stop",
                        ]
                    )
        shutil.rmtree(base, ignore_errors=True)


def new_database(cluster: Postgres, name: str) -> str:
    import psycopg

    with psycopg.connect(
        f"postgresql://postgres@127.0.0.1:{cluster.port}/postgres", autocommit=True
    ) as conn:
        conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    return cluster.url(name)


# --- CPU time of processes (Linux /proc) --------------------------------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _cpu_seconds(pids: Collection[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            # utime and stime, and those of children it reaped (PostgreSQL's backends)
            total += sum(int(f) for f in fields[11:15])
    return total / ticks


def _server_pids(ports: Collection[int]) -> dict[int, int]:
    """The ``agentdesk server`` child process listening on each port."""
    found: dict[int, int] = {}
    for pid in _children(os.getpid()):
        with contextlib.suppress(OSError):
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"server" in args and b"--port" in args:
                port = int(args[args.index(b"--port") + 1])
                if port in ports:
                    found[port] = pid
    return found


class CpuMeter:
    """Cores used by groups of processes between ``start`` and ``stop`` (CPU s / wall s).

    A group is a function giving its process ids, asked again at the end: PostgreSQL starts
    and reaps backends meanwhile.
    """

    def __init__(self, groups: dict[str, Callable[[], Collection[int]]]) -> None:
        self.groups = groups
        self._start: dict[str, float] = {}
        self._wall = 0.0

    def start(self) -> None:
        self._start = {name: _cpu_seconds(pids()) for name, pids in self.groups.items()}
        self._wall = time.perf_counter()

    def stop(self) -> dict[str, float]:
        wall = time.perf_counter() - self._wall
        return {
            name: round((_cpu_seconds(pids()) - self._start[name]) / wall, 2)
            for name, pids in self.groups.items()
        }


# --- the help desk ------------------------------------------------------------------------


@dataclass(frozen=True)
class Desk:
    """A desk user: who follows a stream, or pushes contact records."""

    user_id: str
    username: str
    role: str
    department: str


@dataclass
class World:
    db_url: str
    secret: str
    bridge_token: str
    desks: list[Desk] = field(default_factory=list)

    def token(self, desk: Desk) -> str:
        """An access token as the server's sign-in issues it (same key, claims and expiry)."""
        return security.create_access_token(
            secret=self.secret, user_id=desk.user_id, role=desk.role, minutes=TOKEN_MINUTES
        )


def _roles(count: int) -> list[tuple[str, str]]:
    """(role, department) of ``count`` desk users: supervisors, engineers, agents (of 500:
    20, 30 and 450 in four departments)."""
    supervisors = max(1, count * SUPERVISORS // CLIENTS)
    engineers = max(1, count * ENGINEERS // CLIENTS)
    roles: list[tuple[str, str]] = []
    for i in range(count):
        if i < supervisors:
            roles.append(("supervisor", DEPARTMENTS[0]))
        elif i < supervisors + engineers:
            roles.append(("engineer", "Field Service"))
        else:
            roles.append(("agent", DEPARTMENTS[i % len(DEPARTMENTS)]))
    return roles


def prepare(db_url: str, count: int) -> World:
    """Migrate; add departments, ``count`` desk users and a phone system (bridge)."""
    world = World(db_url=db_url, secret=secrets.token_urlsafe(48), bridge_token="")
    engine = make_engine(db_url)
    try:
        migrate(engine)
        # One Argon2id hash for all: nobody signs in with a password here, and hashing 500
        # passwords would only slow the set-up down.
        password_hash = security.hash_password(secrets.token_urlsafe(18))
        with session_factory(engine)() as session, session.begin():
            departments: dict[str, int] = {}
            for name in DEPARTMENTS:
                row = department_named(session, name, create=True)
                assert row is not None
                departments[name] = row.id
            for i, (role, department) in enumerate(_roles(count)):
                desk = Desk(str(uuid.uuid4()), f"desk{i:03d}.{role}", role, department)
                session.add(
                    User(
                        id=desk.user_id,
                        username=desk.username,
                        full_name=f"Desk {i:03d}",
                        password_hash=password_hash,
                        role=role,
                        department_id=departments[department],
                    )
                )
                world.desks.append(desk)
            _bridge, world.bridge_token = add_bridge(session, "Benchmark phone system")
    finally:
        engine.dispose()
    return world


# --- stream clients (their own processes) -------------------------------------------------


class ChunkedBody:
    """Decodes an HTTP/1.1 chunked body as it arrives."""

    def __init__(self) -> None:
        self._raw = b""
        self._left = 0  # bytes of the current chunk still to come
        self._crlf = False  # the CRLF after a chunk's data is due
        self.ended = False

    def feed(self, data: bytes) -> bytes:
        self._raw += data
        out: list[bytes] = []
        while self._raw and not self.ended:
            if self._left:
                piece = self._raw[: self._left]
                out.append(piece)
                self._raw = self._raw[len(piece) :]
                self._left -= len(piece)
                self._crlf = self._left == 0
            elif self._crlf:
                if len(self._raw) < 2:
                    break
                self._raw = self._raw[2:]
                self._crlf = False
            else:
                line_end = self._raw.find(b"\r\n")
                if line_end < 0:
                    break
                size = int(self._raw[:line_end].split(b";")[0], 16)
                self._raw = self._raw[line_end + 2 :]
                if size == 0:
                    self.ended = True
                self._left = size
        return b"".join(out)


class StreamClient:
    """One desk's event stream on a raw socket.

    ``mode="calls"`` notes when each new call (a ``contact`` event in state ``ringing``)
    arrived; ``mode="count"`` only counts ``contact`` events, as cheaply as possible.
    """

    def __init__(self, index: int, port: int, token: str, mode: str) -> None:
        self.index = index
        self.port = port
        self.token = token
        self.mode = mode
        self.body = ChunkedBody()
        self.text = b""
        self.tail = b""
        self.hello = False
        self.ended = False
        self.counted = 0
        self.received = 0
        self.receipts: list[tuple[str, int, float]] = []
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        self._reader, self._writer = reader, writer
        writer.write(
            (
                f"GET /api/v1/events?heartbeat={HEARTBEAT_S} HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{self.port}\r\n"
                f"Authorization: Bearer {self.token}\r\n"
                "Accept: text/event-stream\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        if status != b"200" or b"chunked" not in head.lower():
            raise RuntimeError(f"the event stream answered {head[:200]!r}")
        while not self.hello:
            data = await reader.read(65536)
            if not data:
                raise RuntimeError("the event stream closed before its hello")
            self._parse(self.body.feed(data), time.time())

    def _parse(self, data: bytes, at: float) -> None:
        self.text += data
        *blocks, self.text = self.text.split(b"\n\n")
        for block in blocks:
            fields = dict(line.split(b": ", 1) for line in block.split(b"\n") if b": " in line[:8])
            kind = fields.get(b"event")
            if kind == b"hello":
                self.hello = True
            elif kind == b"contact":
                self.counted += 1
                record = json.loads(fields[b"data"])
                if record.get("state") == "ringing":
                    self.receipts.append((str(record.get("call_id")), self.index, at))

    async def run(self) -> None:
        assert self._reader is not None
        try:
            while True:
                data = await self._reader.read(65536)
                if not data:
                    break
                self.received += len(data)
                if self.mode == "calls":
                    self._parse(self.body.feed(data), time.time())
                else:
                    # Events never straddle a chunk (one per yield), so the raw bytes do;
                    # the tail is shorter than the mark, so nothing is counted twice.
                    seen = self.tail + data
                    self.counted += seen.count(CALL_MARK)
                    self.tail = seen[-(len(CALL_MARK) - 1) :]
        except (ConnectionError, OSError):
            pass
        self.ended = True

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


async def _ticker(lags: list[float], stop: asyncio.Event) -> None:
    """How late this process's event loop wakes a 5 ms sleep: its own backlog."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.005)
        lags.append((time.perf_counter() - started - 0.005) * 1000)


async def _client_process(conn: Connection, targets: list[tuple[int, int, str]], mode: str) -> None:
    loop = asyncio.get_running_loop()
    streams = [StreamClient(index, port, token, mode) for index, port, token in targets]
    # In waves, so the server's sign-in checks are not one thundering herd.
    for start in range(0, len(streams), 25):
        await asyncio.gather(*(s.connect() for s in streams[start : start + 25]))
    tasks = [asyncio.create_task(s.run()) for s in streams]
    conn.send(("ready", len(streams)))
    lags: list[float] = []
    stop = asyncio.Event()
    cpu = wall = 0.0
    ticker: asyncio.Task[None] | None = None
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command == "go":
            for s in streams:
                s.counted = 0
                s.receipts.clear()
            lags.clear()
            cpu, wall = time.process_time(), time.perf_counter()
            ticker = asyncio.create_task(_ticker(lags, stop))
        elif command == "count":
            conn.send({s.index: s.counted for s in streams})
        elif command == "stop":
            stop.set()
            if ticker is not None:
                await ticker
            cpu_s, wall_s = time.process_time() - cpu, time.perf_counter() - wall
            ended = sum(s.ended for s in streams)
            for s in streams:
                s.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            conn.send(
                {
                    "receipts": [r for s in streams for r in s.receipts],
                    "counted": {s.index: s.counted for s in streams},
                    "lag_ms": lags,
                    "cpu_share": cpu_s / wall_s if wall_s else 0.0,
                    "ended_early": ended,
                    "bytes": sum(s.received for s in streams),
                }
            )
            return


def _client_main(conn: Connection, targets: list[tuple[int, int, str]], mode: str) -> None:
    try:
        asyncio.run(_client_process(conn, targets, mode))
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        raise


class Clients:
    """Client processes holding the streams; talked to over pipes."""

    def __init__(self, targets: list[tuple[int, int, str]], mode: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.procs: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
        for start in range(0, len(targets), CLIENTS_PER_PROCESS):
            parent, child = context.Pipe()
            group = targets[start : start + CLIENTS_PER_PROCESS]
            proc = context.Process(target=_client_main, args=(child, group, mode), daemon=True)
            proc.start()
            child.close()
            self.procs.append((proc, parent))

    @property
    def pids(self) -> list[int]:
        return [p.pid for p, _ in self.procs if p.pid is not None]

    def _answer(self, conn: Connection, timeout: float) -> Any:
        if not conn.poll(timeout):
            raise RuntimeError(f"a client process did not answer within {timeout:.0f} s")
        answer = conn.recv()
        if isinstance(answer, tuple) and answer[0] == "error":
            raise RuntimeError(f"a client process failed: {answer[1]}")
        return answer

    def ready(self, timeout: float = 180.0) -> int:
        return sum(self._answer(conn, timeout)[1] for _, conn in self.procs)

    def send(self, command: str) -> None:
        for _, conn in self.procs:
            conn.send(command)

    def counts(self) -> dict[int, int]:
        self.send("count")
        counted: dict[int, int] = {}
        for _, conn in self.procs:
            counted.update(self._answer(conn, 60))
        return counted

    def stop(self) -> list[dict[str, Any]]:
        self.send("stop")
        return [self._answer(conn, 60) for _, conn in self.procs]

    def close(self) -> None:
        for proc, conn in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
            conn.close()


@contextlib.contextmanager
def clients(targets: list[tuple[int, int, str]], mode: str) -> Iterator[Clients]:
    group = Clients(targets, mode)
    try:
        yield group
    finally:
        group.close()


def _client_side(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Evidence that the clients kept up: their loops' lateness and their CPU share."""
    lags = [lag for r in results for lag in r["lag_ms"]]
    return {
        "client_processes": len(results),
        "client_loop_lag_ms": percentiles(lags) if len(lags) > 1 else None,
        "client_cpu_share": [round(r["cpu_share"], 2) for r in results],
    }


# --- fanout_ms ----------------------------------------------------------------------------


def _ring(http: httpx.Client, call_id: str, rng: random.Random) -> None:
    # A number nobody has on file: the call is for every desk (no department yet).
    response = http.post(
        "/api/v1/telephony/events",
        json={
            "event": "ringing",
            "call_id": call_id,
            "from": f"+4722{rng.randrange(100000, 999999)}",
            "queue": "Service Desk",
        },
    )
    response.raise_for_status()


def measure_fanout(
    world: World, ports: list[int], pg: Postgres, *, count: int, calls: int
) -> Figure:
    desks = world.desks[:count]
    targets = [(i, ports[i % len(ports)], world.token(d)) for i, d in enumerate(desks)]
    rng = random.Random(11)
    note(f"fanout_ms: {len(targets)} streams on {len(ports)} server processes")
    with clients(targets, "calls") as group:
        connected = group.ready()
        https = [
            httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {world.bridge_token}"},
                timeout=30,
            )
            for port in ports
        ]
        servers = _server_pids(ports)
        meter = CpuMeter(
            {
                "servers": lambda: list(servers.values()),
                "postgresql": pg.pids,
                "clients": lambda: group.pids,
                "caller": lambda: [os.getpid()],
            }
        )
        posted: dict[str, tuple[float, int]] = {}
        ingress_ms: list[float] = []
        try:
            for i in range(WARMUP_CALLS):
                _ring(https[i % len(https)], f"warm-{uuid.uuid4().hex}", rng)
                time.sleep(rng.uniform(*CALL_GAP_S))
            group.send("go")
            meter.start()
            note(f"fanout_ms: {calls} calls through the ingress, {CALL_GAP_S} s apart")
            for i in range(calls):
                call_id = f"bench-{i}-{uuid.uuid4().hex[:8]}"
                server = i % len(https)
                started = time.time()
                _ring(https[server], call_id, rng)
                ingress_ms.append((time.time() - started) * 1000)
                posted[call_id] = (started, server)
                time.sleep(rng.uniform(*CALL_GAP_S))
            time.sleep(SETTLE_S)
            cpu = meter.stop()
            results = group.stop()
        finally:
            for http in https:
                http.close()
    latencies: list[float] = []
    by_path: dict[str, list[float]] = {"same_process": [], "other_process": []}
    by_call: dict[str, list[float]] = {}
    seen: Counter[tuple[str, int]] = Counter()
    for result in results:
        for call_id, index, at in result["receipts"]:
            if call_id not in posted:
                continue
            seen[(call_id, index)] += 1
            if seen[(call_id, index)] > 1:
                continue
            started, server = posted[call_id]
            ms = (at - started) * 1000
            latencies.append(ms)
            by_call.setdefault(call_id, []).append(ms)
            same = targets[index][1] == ports[server]
            by_path["same_process" if same else "other_process"].append(ms)
    expected = len(posted) * len(targets)
    missing = expected - len(latencies)
    figure: Figure = {
        **percentiles(latencies),
        "n": len(latencies),
        "unit": "ms",
        "budget": f"p99 ≤ {FANOUT_P99_MS:g} ms",
        "met": percentiles(latencies)["p99"] <= FANOUT_P99_MS and missing == 0,
        "clients": connected,
        "server_processes": len(ports),
        "calls": len(posted),
        "missing": missing,
        "doubled": sum(n - 1 for n in seen.values()),
        "streams_ended_early": sum(r["ended_early"] for r in results),
        "by_path": {k: percentiles(v) for k, v in by_path.items() if len(v) > 1},
        # When the first and the last desk heard each call: the wake, then the fan-out.
        "first_desk_ms": percentiles([min(v) for v in by_call.values()]),
        "last_desk_ms": percentiles([max(v) for v in by_call.values()]),
        "ingress_ms": percentiles(ingress_ms),
        **_client_side(results),
        "cpu_share": cpu,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    return figure


# --- write_rate ---------------------------------------------------------------------------


def _contact_create(rng: random.Random) -> dict[str, Any]:
    """A contact logged on a desk, as its outbox pushes it."""
    channel = rng.choice(("email", "im", "walk-in", "phone"))
    return {
        "id": str(uuid.uuid4()),
        "entity": "contact",
        "entity_id": str(uuid.uuid4()),
        "op": "create",
        "base_version": 0,
        "fields": {
            "channel": channel,
            "caller_name": rng.choice(("Åse Løvås", "王伟", "Ольга Смирнова", "Marco Bianchi")),
            "caller_address": f"+4722{rng.randrange(100000, 999999)}",
            "direction": rng.choice(("in", "out")),
        },
    }


@dataclass
class WriterTally:
    """What the writers got done while the clock ran (and in all, for the delivery check)."""

    records: int = 0
    refused: int = 0
    requests: int = 0
    request_ms: list[float] = field(default_factory=list)
    by_department: Counter[str] = field(default_factory=Counter)


async def _writer(
    url: str,
    world: World,
    desk: Desk,
    tally: WriterTally,
    *,
    window: tuple[float, float],
    batch: int,
) -> None:
    rng = random.Random(desk.username)
    device = f"bench-{desk.username}"
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {world.token(desk)}"}, timeout=60
    ) as http:
        while time.perf_counter() < window[1]:
            mutations = [_contact_create(rng) for _ in range(batch)]
            started = time.perf_counter()
            response = await http.post(
                "/api/v1/sync/push", json={"device_id": device, "mutations": mutations}
            )
            response.raise_for_status()
            done = time.perf_counter()
            applied = sum(r["status"] == "applied" for r in response.json()["results"])
            tally.refused += len(mutations) - applied
            tally.by_department[desk.department] += applied
            if window[0] <= done <= window[1]:
                tally.records += applied
                tally.requests += 1
                tally.request_ms.append((done - started) * 1000)


async def _write(
    world: World, url: str, writers: list[Desk], seconds: float, batch: int
) -> WriterTally:
    """Every writer pushes batches until the time is up; the first seconds are a warm-up."""
    tally = WriterTally()
    start = time.perf_counter()
    window = (start + WRITE_WARMUP_S, start + WRITE_WARMUP_S + seconds)
    await asyncio.gather(
        *(_writer(url, world, d, tally, window=window, batch=batch) for d in writers)
    )
    return tally


def _expected(desk: Desk, by_department: Counter[str]) -> int:
    """How many of the pushed records this desk may hear of (the event visibility rule)."""
    if desk.role in ("supervisor", "admin"):
        return sum(by_department.values())
    return by_department[desk.department]


def _rate(tally: WriterTally, seconds: float, batch: int) -> dict[str, Any]:
    return {
        "value": round(tally.records / seconds, 1),
        "batch": batch,
        "requests_per_s": round(tally.requests / seconds, 1),
        "request_ms": percentiles(tally.request_ms) if len(tally.request_ms) > 1 else None,
    }


def measure_write_rate(
    world: World, port: int, pg: Postgres, *, count: int, seconds: float
) -> Figure:
    desks = world.desks[:count]
    targets = [(i, port, world.token(d)) for i, d in enumerate(desks)]
    writers = [d for d in world.desks if d.role == "agent"][:WRITERS]
    url = f"http://127.0.0.1:{port}"
    note(f"write_rate: {len(targets)} streams on one server process")
    with clients(targets, "count") as group:
        connected = group.ready()
        server = _server_pids([port])
        meter = CpuMeter(
            {
                "server": lambda: list(server.values()),
                "postgresql": pg.pids,
                "clients": lambda: group.pids,
                "writers": lambda: [os.getpid()],
            }
        )
        group.send("go")
        note(
            f"write_rate: {len(writers)} desks push {WRITE_BATCH} contact records a request "
            f"for {WRITE_WARMUP_S + seconds:.0f} s"
        )
        meter.start()
        tally = asyncio.run(_write(world, url, writers, seconds, WRITE_BATCH))
        cpu = meter.stop()
        single_s = max(1.0, seconds / 2)
        note(f"write_rate: the same desks push one record a request for {single_s:.0f} s")
        single = asyncio.run(_write(world, url, writers, single_s, 1))
        # Every desk must hear every record it may see: wait until the counts are there,
        # and a little longer, so that anything it must not hear would show too.
        pushed = tally.by_department + single.by_department
        expected = {i: _expected(d, pushed) for i, d in enumerate(desks)}
        waited = time.perf_counter()
        deadline = time.monotonic() + 120
        heard = group.counts()
        while time.monotonic() < deadline and any(heard[i] < n for i, n in expected.items()):
            time.sleep(0.25)
            heard = group.counts()
        waited = time.perf_counter() - waited
        time.sleep(1.0)
        heard = group.counts()
        results = group.stop()
    short = sum(max(0, n - heard[i]) for i, n in expected.items())
    extra = sum(max(0, heard[i] - n) for i, n in expected.items())
    main = _rate(tally, seconds, WRITE_BATCH)
    return {
        "value": main.pop("value"),
        "unit": "records/s",
        "budget": f"≥ {WRITE_MIN_PER_S:,.0f}/s",
        "met": tally.records / seconds >= WRITE_MIN_PER_S and short == 0 and extra == 0,
        "records": tally.records,
        "seconds": seconds,
        "writers": len(writers),
        **main,
        "one_record_a_request": _rate(single, single_s, 1),
        "refused": tally.refused + single.refused,
        "clients": connected,
        "server_processes": 1,
        "events_delivered": sum(heard.values()),
        "events_expected": sum(expected.values()),
        "events_missing": short,
        "events_unexpected": extra,
        "delivered_after_s": round(waited, 2),
        "streams_ended_early": sum(r["ended_early"] for r in results),
        **_client_side(results),
        "cpu_share": cpu,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


# --- the run ------------------------------------------------------------------------------


def run(
    scale: Scale,
    report: Report,
    wanted: Collection[str],
    *,
    clients_count: int = CLIENTS,
    calls: int = CALLS,
    write_seconds: float = WRITE_SECONDS,
) -> None:
    """Start PostgreSQL and the server processes, and measure the wanted figures."""
    del scale  # the same sizes at every scale: 500 desks is the size of the budget
    with contextlib.ExitStack() as stack:
        note("fanout: starting a PostgreSQL cluster in a temporary directory")
        pg = stack.enter_context(postgres())
        db_url = new_database(pg, "agentdesk_bench")
        world = prepare(db_url, clients_count)
        env = {"AGENTDESK_SECRET_KEY": world.secret}
        ports = [free_port() for _ in range(SERVERS)]
        stack.enter_context(server_process(db_url, ports[0], env=env))
        if "fanout_ms" in wanted:
            with contextlib.ExitStack() as others:
                for port in ports[1:]:
                    others.enter_context(server_process(db_url, port, env=env))
                report.add(
                    "fanout_ms",
                    measure_fanout(world, ports, pg, count=clients_count, calls=calls),
                )
        if "write_rate" in wanted:
            report.add(
                "write_rate",
                measure_write_rate(world, ports[0], pg, count=clients_count, seconds=write_seconds),
            )


def _main() -> None:
    """``python -m benchmarks.fanout [clients] [calls] [write seconds]``: a quick run."""
    import sys

    from benchmarks.figures import DEFAULT_OUT, SCALES

    args = [float(a) for a in sys.argv[1:]]
    out = DEFAULT_OUT.with_name("fanout.json")
    run(
        SCALES["small"],
        Report(out, SCALES["small"]),
        NAMES,
        clients_count=int(args[0]) if args else CLIENTS,
        calls=int(args[1]) if len(args) > 1 else CALLS,
        write_seconds=args[2] if len(args) > 2 else WRITE_SECONDS,
    )


if __name__ == "__main__":
    _main()
