"""Call events from phone systems, in AgentDesk's form and the generic CTI form."""

from __future__ import annotations

import random
import subprocess
import sys
import uuid
from typing import Any

import httpx

from agentdesk.server.db import make_engine, session_factory
from agentdesk.server.models import Bridge
from agentdesk.server.telephony import apply_call_event, parse_native
from tests.conftest import LiveServer
from tests.server.conftest import ClientFor, create_sheet

Json = dict[str, Any]


def oslo_number() -> tuple[str, str]:
    """A fresh valid Oslo number, as E.164 and as typed in Norway."""
    digits = f"22{random.randrange(100000, 999999)}"
    return f"+47{digits}", f"{digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"


def event(pbx: httpx.Client, **body: Any) -> Json:
    response = pbx.post("/api/v1/telephony/events", json=body)
    assert response.status_code == 200, response.text
    contact: Json = response.json()["contact"]
    return contact


def test_a_call_is_offered_answered_and_ended_with_its_times(pbx: httpx.Client) -> None:
    # Given a ringing call
    call = uuid.uuid4().hex
    offered = event(
        pbx,
        event="ringing",
        call_id=call,
        **{"from": "+47 22 11 00 00"},
        to="+4721000000",
        queue="service-desk",
        at="2026-11-23T09:00:00Z",
    )
    assert offered["state"] == "ringing" and offered["answered_at"] is None
    # When an agent answers 7 s later and the call ends 3 minutes after that
    answered = event(pbx, event="answered", call_id=call, agent="ingrid", at="2026-11-23T09:00:07Z")
    ended = event(
        pbx, event="hangup", call_id=call, cause="normalClearing", at="2026-11-23T09:03:07Z"
    )
    # Then one record carries the whole call
    assert offered["id"] == answered["id"] == ended["id"]
    assert answered["speed_of_answer_s"] == 7.0
    assert (ended["state"], ended["answered_by"]) == ("ended", "ingrid")
    assert ended["offered_at"].startswith("2026-11-23T09:00:00")
    assert ended["ended_at"].startswith("2026-11-23T09:03:07")
    assert ended["hangup_cause"] == "normalClearing"


def test_a_repeated_event_changes_nothing(pbx: httpx.Client) -> None:
    # Given a ringing call that was then answered
    call = uuid.uuid4().hex
    first = event(pbx, event="ringing", call_id=call, **{"from": "+47 22 11 00 01"})
    answered = event(pbx, event="answered", call_id=call, agent="ingrid")
    # When the phone system repeats both events
    again = event(pbx, event="ringing", call_id=call, **{"from": "+47 22 11 00 01"})
    answered_again = event(pbx, event="answered", call_id=call, agent="someone else")
    # Then there is still one record, at the same version, answered by the first agent
    assert again["id"] == first["id"]
    assert answered_again["version"] == answered["version"]
    assert answered_again["answered_by"] == "ingrid"


def test_a_caller_who_hangs_up_before_the_answer_is_abandoned_with_the_wait(
    pbx: httpx.Client,
) -> None:
    # Given a call that rang for 25 s
    call = uuid.uuid4().hex
    event(pbx, event="ringing", call_id=call, at="2026-11-23T10:00:00+01:00")
    # When the caller hangs up
    gone = event(pbx, event="hangup", call_id=call, cause="cancel", at="2026-11-23T10:00:25+01:00")
    # Then the record is abandoned with the time the caller waited
    assert (gone["state"], gone["waited_s"], gone["answered_at"]) == ("abandoned", 25.0, None)


def test_an_answer_after_the_hang_up_does_not_reopen_the_call(pbx: httpx.Client) -> None:
    # Given an abandoned call
    call = uuid.uuid4().hex
    event(pbx, event="ringing", call_id=call)
    event(pbx, event="hangup", call_id=call, cause="cancel")
    # When a late answer event arrives
    late = event(pbx, event="answered", call_id=call, agent="ingrid")
    # Then the call stays abandoned
    assert late["state"] == "abandoned" and late["answered_by"] == ""


def test_the_generic_cti_payload_works_form_encoded_and_as_json(
    live_server: LiveServer, bridge_token: str
) -> None:
    # Given a phone system configured for the generic CTI interface
    url = f"{live_server.url}/api/v1/cti/{bridge_token}"
    call = uuid.uuid4().hex
    # When it posts its three events, form-encoded then JSON
    ring = httpx.post(
        url,
        data={
            "event": "newCall",
            "from": "4722110002",
            "to": "4721000000",
            "direction": "in",
            "callId": call,
            "user[]": "Ingrid",
            "queue": "service-desk",
        },
    )
    answer = httpx.post(
        url,
        data={
            "event": "answer",
            "callId": call,
            "user": "Ingrid Solberg",
            "answeringNumber": "4721000010",
            "direction": "in",
        },
    )
    hangup = httpx.post(
        url, json={"event": "hangup", "callId": call, "cause": "normalClearing", "direction": "in"}
    )
    # Then each is accepted and they tell one call's story
    assert [r.status_code for r in (ring, answer, hangup)] == [200, 200, 200]
    ids = {r.json()["contact_id"] for r in (ring, answer, hangup)}
    assert len(ids) == 1
    native = httpx.post(
        f"{live_server.url}/api/v1/telephony/events",
        headers={"Authorization": f"Bearer {bridge_token}"},
        json={"event": "hangup", "call_id": call},
    ).json()["contact"]
    assert (native["state"], native["answered_by"], native["queue"]) == (
        "ended",
        "Ingrid Solberg",
        "service-desk",
    )


def test_an_unknown_bridge_token_is_refused(live_server: LiveServer) -> None:
    # Given no such token
    # When events are posted with it on either path
    native = httpx.post(
        f"{live_server.url}/api/v1/telephony/events",
        headers={"Authorization": "Bearer not-a-token"},
        json={"event": "ringing", "call_id": "x"},
    )
    generic = httpx.post(
        f"{live_server.url}/api/v1/cti/not-a-token", data={"event": "newCall", "callId": "x"}
    )
    missing = httpx.post(
        f"{live_server.url}/api/v1/telephony/events", json={"event": "ringing", "call_id": "x"}
    )
    # Then both are refused, saying how to get a token
    for response in (native, generic, missing):
        assert response.status_code == 401
        assert "bridges add" in response.json()["detail"]


def test_a_malformed_event_names_its_fields(
    pbx: httpx.Client, live_server: LiveServer, bridge_token: str
) -> None:
    # When events lack or garble their fields
    bad = pbx.post("/api/v1/telephony/events", json={"event": "ringed", "at": "yesterday"})
    generic = httpx.post(f"{live_server.url}/api/v1/cti/{bridge_token}", data={"event": "dial"})
    not_json = pbx.post(
        "/api/v1/telephony/events", content=b"{", headers={"Content-Type": "application/json"}
    )
    # Then each answer names every bad field
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["detail"]} == {"event", "call_id", "at"}
    assert {e["field"] for e in generic.json()["detail"]} == {"event", "callId"}
    assert not_json.status_code == 422 and not_json.json()["detail"][0]["field"] == "body"


def test_a_known_number_finds_its_customer_however_it_is_written(
    pbx: httpx.Client, client_for: ClientFor, customer_factory: Any
) -> None:
    # Given a tier A customer with an Oslo number
    e164, _national = oslo_number()
    sheet = create_sheet(
        client_for("supervisor"),
        customer_factory(
            tier="A", phones=[{"label": "office", "number": e164}], name="Åse Kværnes"
        ),
    )
    # When that number calls, written with 00 instead of +
    contact = event(pbx, event="ringing", call_id=uuid.uuid4().hex, **{"from": "00" + e164[1:]})
    # Then the call carries the customer, the tier and the name
    assert contact["customer_id"] == sheet["id"]
    assert (contact["tier"], contact["caller_name"]) == ("A", "Åse Kværnes")
    assert contact["caller_number"] == e164


def test_a_number_shared_by_two_customers_offers_both(
    pbx: httpx.Client, client_for: ClientFor, customer_factory: Any
) -> None:
    # Given two sheets with the same switchboard number
    e164, _national = oslo_number()
    http = client_for("supervisor")
    ids = {
        create_sheet(http, customer_factory(phones=[{"label": "switchboard", "number": e164}]))[
            "id"
        ]
        for _ in range(2)
    }
    # When it calls
    contact = event(pbx, event="ringing", call_id=uuid.uuid4().hex, **{"from": e164})
    # Then no one is chosen, and both are offered
    assert contact["customer_id"] is None
    assert set(contact["candidates"]) == ids


def test_an_unknown_or_withheld_number_is_offered_as_is(pbx: httpx.Client) -> None:
    unknown = event(pbx, event="ringing", call_id=uuid.uuid4().hex, **{"from": "+47 22 99 99 98"})
    withheld = event(pbx, event="ringing", call_id=uuid.uuid4().hex, **{"from": "anonymous"})
    assert unknown["customer_id"] is None and unknown["candidates"] == []
    assert unknown["caller_number"] == "+4722999998"
    assert (withheld["caller_number"], withheld["tier"]) == ("anonymous", "B")


def test_a_national_number_matches_with_the_default_region(
    live_server: LiveServer, client_for: ClientFor, customer_factory: Any
) -> None:
    # Given a customer, and a phone system that sends numbers as dialled in Norway
    e164, national = oslo_number()
    sheet = create_sheet(
        client_for("supervisor"), customer_factory(phones=[{"label": "office", "number": e164}])
    )
    engine = make_engine(live_server.db_url)
    with session_factory(engine)() as session, session.begin():
        bridge = session.query(Bridge).first()
        assert bridge is not None
        # When the call arrives with the site's default region set to Norway
        contact = apply_call_event(
            session,
            bridge,
            parse_native({"event": "ringing", "call_id": uuid.uuid4().hex, "from": national}),
            default_region="NO",
        )
        # Then it finds the customer
        assert contact.customer_id == sheet["id"]
    engine.dispose()


def test_changing_a_sheets_number_moves_the_match(
    pbx: httpx.Client, client_for: ClientFor, customer_factory: Any
) -> None:
    # Given a customer whose number changes
    old, _ = oslo_number()
    new, _ = oslo_number()
    http = client_for("supervisor")
    sheet = create_sheet(http, customer_factory(phones=[{"label": "office", "number": old}]))
    response = http.put(
        f"/api/v1/customers/{sheet['id']}",
        json={"version": sheet["version"], "phones": [{"label": "office", "number": new}]},
    )
    assert response.status_code == 200, response.text
    # When each number calls
    from_old = event(pbx, event="ringing", call_id=uuid.uuid4().hex, **{"from": old})
    from_new = event(pbx, event="ringing", call_id=uuid.uuid4().hex, **{"from": new})
    # Then only the new one finds the customer
    assert from_old["customer_id"] is None
    assert from_new["customer_id"] == sheet["id"]


def test_the_command_line_creates_a_bridge_whose_token_works(live_server: LiveServer) -> None:
    # Given a bridge added from the command line
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentdesk",
            "bridges",
            "add",
            f"CLI PBX {uuid.uuid4().hex[:6]}",
            "--db",
            live_server.db_url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    token = result.stdout.strip()
    # When its token posts an event
    response = httpx.post(
        f"{live_server.url}/api/v1/telephony/events",
        headers={"Authorization": f"Bearer {token}"},
        json={"event": "ringing", "call_id": uuid.uuid4().hex},
    )
    # Then the server takes it, and the token was printed nowhere but standard output
    assert response.status_code == 200
    assert token not in result.stderr
