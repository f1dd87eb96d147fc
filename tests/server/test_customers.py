"""Customer sheets over REST: create, read, search, validation, UTF-8 and versioned updates."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from urllib.parse import quote

import pytest

from tests.server.conftest import ClientFor, Json, create_sheet, read_sheet

SheetFactory = Callable[..., Json]


def _unique_digits(n: int) -> str:
    return "".join(random.choice("0123456789") for _ in range(n))


def _unique_ip() -> str:
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def test_created_sheet_reads_back_as_sent(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    sheet = customer_factory()

    # When
    response = agent.post("/api/v1/customers", json=sheet)

    # Then
    assert response.status_code == 201
    created = response.json()
    assert created["id"] == sheet["id"]
    assert created["version"] == 1
    assert created["phones"] == [{"label": "office", "number": "+4722334455"}]
    read = read_sheet(agent, sheet["id"])
    assert read == created
    assert read["name"] == sheet["name"]
    assert read["devices"][0]["computer_name"] == sheet["devices"][0]["computer_name"]  # type: ignore[index]


def test_sheet_with_an_id_that_exists_is_refused(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    first = create_sheet(agent, customer_factory())

    # When
    response = agent.post("/api/v1/customers", json=customer_factory(id=first["id"]))

    # Then
    assert response.status_code == 409
    assert read_sheet(agent, first["id"]) == first


def _searchable_sheet(customer_factory: SheetFactory) -> tuple[Json, dict[str, str]]:
    """A sheet with unique values in every searchable field, and a query for each."""
    unique = uuid.uuid4().hex[:6]
    local = "65" + _unique_digits(6)
    ip = _unique_ip()
    sheet = customer_factory(
        name=f"王小明 Bjørnstad Иванов {unique}",
        phones=[{"label": "office", "number": f"+86 10 {local[:4]} {local[4:]}"}],
        email=f"xiaoming.{unique}@example.cn",
        organisation=f"北京大学 Tromsø Øst {unique}",
        devices=[{"computer_name": f"BJ-{unique}-PC", "ip_addresses": [ip, "fd00::15"]}],
    )
    queries = {
        "name": f"bjørnstad {unique}",
        "chinese-name": f"王小明 {unique}",
        "cyrillic-name": f"иванов {unique}",
        "phone-national-digits": f"10 {local[:4]} {local[4:]}",
        "phone-international": f"+86 10{local}",
        "email": f"xiaoming.{unique}@example.cn",
        "organisation-chinese": f"北京大学 {unique}",
        "organisation-norwegian": f"TROMSØ øst {unique}",
        "computer-name": f"bj-{unique}-pc",
        "ip-address": ip,
    }
    return sheet, queries


@pytest.mark.parametrize(
    "field",
    [
        "name",
        "chinese-name",
        "cyrillic-name",
        "phone-national-digits",
        "phone-international",
        "email",
        "organisation-chinese",
        "organisation-norwegian",
        "computer-name",
        "ip-address",
    ],
)
def test_search_finds_a_sheet_by_each_field(
    client_for: ClientFor, customer_factory: SheetFactory, field: str
) -> None:
    # Given
    agent = client_for("agent")
    sheet, queries = _searchable_sheet(customer_factory)
    create_sheet(agent, sheet)

    # When
    response = agent.get("/api/v1/customers", params={"q": queries[field]})

    # Then
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == [sheet["id"]]
    assert body["total"] == 1


def test_search_decodes_a_percent_encoded_utf8_query(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    unique = uuid.uuid4().hex[:6]
    sheet = create_sheet(agent, customer_factory(organisation=f"Kraków Åsane 上海 {unique}"))
    raw_query = quote(f"åsane 上海 {unique}", safe="")
    assert "%C3%A5sane" in raw_query

    # When
    response = agent.get(f"/api/v1/customers?q={raw_query}")

    # Then
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [sheet["id"]]


def test_search_treats_like_wildcards_as_plain_text(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    unique = uuid.uuid4().hex[:6]
    sheet = create_sheet(agent, customer_factory(organisation=f"100%_sikker {unique}"))
    create_sheet(agent, customer_factory(organisation=f"100 prosent sikker {unique}"))

    # When
    response = agent.get("/api/v1/customers", params={"q": f"100%_ {unique}"})

    # Then
    assert [item["id"] for item in response.json()["items"]] == [sheet["id"]]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phones": [{"label": "office", "number": "+86 6552 9988"}]}, "phones[0].number"),
        (
            {"devices": [{"computer_name": "PC-1", "ip_addresses": ["10.0.0.300"]}]},
            "devices[0].ip_addresses[0]",
        ),
        ({"tier": "C"}, "tier"),
        ({"name": ""}, "name"),
        ({"email": "not-an-address"}, "email"),
    ],
    ids=["phone-without-area-code", "malformed-ip", "tier-c", "empty-name", "bad-email"],
)
def test_invalid_field_answers_422_naming_it(
    client_for: ClientFor,
    customer_factory: SheetFactory,
    overrides: Json,
    field: str,
) -> None:
    # Given
    sheet = customer_factory(**overrides)

    # When
    response = client_for("agent").post("/api/v1/customers", json=sheet)

    # Then
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [e["field"] for e in errors] == [field]
    assert errors[0]["msg"]
    assert client_for("agent").get(f"/api/v1/customers/{sheet['id']}").status_code == 404


def test_every_invalid_field_is_named_in_one_answer(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    sheet = customer_factory(
        name="   ",
        tier="C",
        phones=[{"label": "mobile", "number": "+86 6552 9988"}],
        devices=[{"computer_name": "PC-1", "ip_addresses": ["10.0.0.1", "300.1.1.1"]}],
    )

    # When
    response = client_for("agent").post("/api/v1/customers", json=sheet)

    # Then
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["detail"]}
    assert fields == {"name", "tier", "phones[0].number", "devices[0].ip_addresses[1]"}


def test_chinese_norwegian_and_cyrillic_text_survive_the_round_trip(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    sheet = customer_factory(
        name="张伟 Ærlig Øvre-Åsen Дмитрий",
        organisation="中国银行 北京分行",
        location="Bjørnstjerne Bjørnsons gate 5, Tromsø · Москва, ул. Тверская",
        account_manager="Ингрид Сæther 李娜",
        language="zh_CN",
        timezone="Asia/Shanghai",
    )

    # When
    created = create_sheet(agent, sheet)
    response = agent.get(f"/api/v1/customers/{sheet['id']}")

    # Then
    assert response.headers["content-type"].startswith("application/json")
    read = response.json()
    for key in ("name", "organisation", "location", "account_manager"):
        assert created[key] == sheet[key]
        assert read[key] == sheet[key]
    assert "Øvre-Åsen".encode() in response.content


def test_put_with_the_version_in_the_body_bumps_it(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    sheet = create_sheet(agent, customer_factory())

    # When
    response = agent.put(
        f"/api/v1/customers/{sheet['id']}", json={"version": 1, "location": "Kontor 3"}
    )

    # Then
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    assert response.json()["location"] == "Kontor 3"
    assert read_sheet(agent, sheet["id"]) == response.json()


@pytest.mark.parametrize("if_match", ['"1"', "1", 'W/"1"'])
def test_put_with_the_version_in_if_match_bumps_it(
    client_for: ClientFor, customer_factory: SheetFactory, if_match: str
) -> None:
    # Given
    agent = client_for("agent")
    sheet = create_sheet(agent, customer_factory())

    # When
    response = agent.put(
        f"/api/v1/customers/{sheet['id']}",
        json={"tier": "A"},
        headers={"If-Match": if_match},
    )

    # Then
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    assert read_sheet(agent, sheet["id"])["tier"] == "A"


@pytest.mark.parametrize("where", ["body", "if-match"])
def test_put_with_a_stale_version_answers_409_and_changes_nothing(
    client_for: ClientFor, customer_factory: SheetFactory, where: str
) -> None:
    # Given
    agent = client_for("agent")
    sheet = create_sheet(agent, customer_factory())
    first = agent.put(
        f"/api/v1/customers/{sheet['id']}", json={"version": 1, "location": "First edit"}
    )
    assert first.status_code == 200
    current = first.json()

    # When
    if where == "body":
        response = agent.put(
            f"/api/v1/customers/{sheet['id']}", json={"version": 1, "location": "Stale edit"}
        )
    else:
        response = agent.put(
            f"/api/v1/customers/{sheet['id']}",
            json={"location": "Stale edit"},
            headers={"If-Match": '"1"'},
        )

    # Then
    assert response.status_code == 409
    body = response.json()
    assert body["current"] == current
    assert body["fields"] == ["location"]
    assert read_sheet(agent, sheet["id"]) == current


def test_put_without_a_version_answers_422_naming_version(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    sheet = create_sheet(agent, customer_factory())

    # When
    response = agent.put(f"/api/v1/customers/{sheet['id']}", json={"location": "Anywhere"})

    # Then
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == ["version"]
    assert read_sheet(agent, sheet["id"]) == sheet


def test_put_with_an_invalid_field_answers_422_and_changes_nothing(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    sheet = create_sheet(agent, customer_factory())

    # When
    response = agent.put(
        f"/api/v1/customers/{sheet['id']}",
        json={"version": 1, "devices": [{"computer_name": "X", "ip_addresses": ["1.2.3"]}]},
    )

    # Then
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == ["devices[0].ip_addresses[0]"]
    assert read_sheet(agent, sheet["id"]) == sheet


def test_put_that_changes_nothing_keeps_the_version(
    client_for: ClientFor, customer_factory: SheetFactory
) -> None:
    # Given
    agent = client_for("agent")
    sheet = create_sheet(agent, customer_factory())

    # When
    response = agent.put(
        f"/api/v1/customers/{sheet['id']}",
        json={"version": 1, "organisation": sheet["organisation"]},
    )

    # Then
    assert response.status_code == 200
    assert response.json()["version"] == 1


def test_put_to_a_missing_sheet_answers_404(client_for: ClientFor) -> None:
    # When
    response = client_for("agent").put(
        f"/api/v1/customers/{uuid.uuid4()}", json={"version": 1, "location": "Nowhere"}
    )

    # Then
    assert response.status_code == 404
