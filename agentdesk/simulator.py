"""Simulated phone traffic, posted through the same ingress a real phone system uses.

Callers are known customers (their numbers taken from a sheet file, written the way phone
systems send them: ``+47…``, ``0047…`` or national) and unknown numbers. Each call rings;
one that nobody answers in time is abandoned by its caller, one that is answered ends after
a while of talk. It is what ``make run`` starts so a newcomer sees calls arrive.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import phonenumbers

log = logging.getLogger(__name__)

UNKNOWN_REGIONS = ("NO", "SE", "DK", "GB", "DE", "IT", "CN", "RU", "FI", "US")


@dataclass(frozen=True)
class Caller:
    number: str  # as the phone system sends it
    known: bool


@dataclass
class Traffic:
    """How the simulated callers behave. Times in seconds."""

    mean_gap: float = 20.0  # between two new calls
    patience: tuple[float, float] = (15.0, 60.0)  # how long a caller waits before giving up
    abandon_share: float = 0.5  # of unanswered callers who give up at the end of patience
    talk: tuple[float, float] = (60.0, 240.0)
    unknown_share: float = 0.25
    queue: str = "service-desk"
    called: str = "+4721000000"
    rng: random.Random = field(default_factory=random.Random)


@dataclass
class Tally:
    offered: int = 0
    abandoned: int = 0
    ended: int = 0
    errors: int = 0


def known_callers(profiles: Path) -> list[Caller]:
    """Every phone number in a sheet file, in the forms phone systems use."""
    document = json.loads(profiles.read_text(encoding="utf-8"))
    sheets = document["customers"] if isinstance(document, dict) else document
    callers = []
    for sheet in sheets:
        for phone in sheet.get("phones", []):
            parsed = phonenumbers.parse(phone["number"], None)
            e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            callers.append(Caller(e164, known=True))
            callers.append(Caller("00" + e164[1:], known=True))
    return callers


def unknown_caller(rng: random.Random) -> Caller:
    """A valid number that no sheet is likely to hold."""
    region = rng.choice(UNKNOWN_REGIONS)
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.FIXED_LINE)
    assert example is not None, region  # every region listed has fixed-line examples
    national = str(example.national_number)
    for _ in range(20):
        tail = "".join(str(rng.randrange(10)) for _ in range(3))
        candidate = phonenumbers.parse(f"+{example.country_code}{national[:-3]}{tail}", None)
        if phonenumbers.is_valid_number(candidate):
            return Caller(
                phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.E164),
                known=False,
            )
    return Caller(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164), False)


class CallSimulator:
    """Posts simulated calls to ``/api/v1/telephony/events`` with a bridge token."""

    def __init__(
        self,
        server: str,
        token: str,
        callers: Sequence[Caller],
        traffic: Traffic | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.traffic = traffic or Traffic()
        self.callers = list(callers)
        self.tally = Tally()
        self._http = httpx.AsyncClient(
            base_url=server.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=10.0,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, body: dict[str, str]) -> dict[str, object] | None:
        try:
            response = await self._http.post("/api/v1/telephony/events", json=body)
        except httpx.TransportError as exc:
            log.warning("call event not delivered: %s", exc)
            self.tally.errors += 1
            return None
        if response.status_code != 200:
            log.warning("call event refused (%s): %s", response.status_code, response.text)
            self.tally.errors += 1
            return None
        contact: dict[str, object] = response.json()["contact"]
        return contact

    def pick_caller(self) -> Caller:
        rng = self.traffic.rng
        if not self.callers or rng.random() < self.traffic.unknown_share:
            return unknown_caller(rng)
        return rng.choice(self.callers)

    async def one_call(self) -> str:
        """Ring, then abandon or (once answered) end; returns how the call ended."""
        rng, traffic = self.traffic.rng, self.traffic
        call_id = uuid.uuid4().hex
        caller = self.pick_caller()
        ring = {
            "event": "ringing",
            "call_id": call_id,
            "from": caller.number,
            "to": traffic.called,
            "queue": traffic.queue,
        }
        if await self._post(ring) is None:
            return "error"
        self.tally.offered += 1
        await asyncio.sleep(rng.uniform(*traffic.patience))
        # Repeating "ringing" changes nothing and tells how the call stands.
        contact = await self._post(ring)
        if contact is None:
            return "error"
        if contact.get("state") == "ringing":
            if rng.random() >= traffic.abandon_share:
                await asyncio.sleep(rng.uniform(*traffic.patience))
                contact = await self._post(ring)
                if contact is None:
                    return "error"
            if contact.get("state") == "ringing":
                await self._post({"event": "hangup", "call_id": call_id, "cause": "cancel"})
                self.tally.abandoned += 1
                return "abandoned"
        if contact.get("state") == "answered":
            await asyncio.sleep(rng.uniform(*traffic.talk))
            await self._post({"event": "hangup", "call_id": call_id, "cause": "normalClearing"})
        self.tally.ended += 1
        return "ended"

    async def run(self, *, count: int | None = None, duration: float | None = None) -> Tally:
        """Start calls at random intervals until ``count`` calls or ``duration`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + duration if duration is not None else None
        calls: list[asyncio.Task[str]] = []
        started = 0
        try:
            while (count is None or started < count) and (
                deadline is None or loop.time() < deadline
            ):
                calls.append(asyncio.create_task(self.one_call(), name=f"call-{started}"))
                started += 1
                if count is not None and started >= count:
                    break
                await asyncio.sleep(self.traffic.rng.expovariate(1 / self.traffic.mean_gap))
            await asyncio.gather(*calls)
        finally:
            for call in calls:
                call.cancel()
        return self.tally
