"""The customer sheet's rules: every field normalised or refused with a message naming it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from agentdesk.domain.customers import (
    Customer,
    format_phone,
    matches,
    normalise_email,
    normalise_ip,
    normalise_language,
    normalise_name,
    normalise_phone,
    normalise_tier,
    normalise_timezone,
    parse_customer,
    query_terms,
    search_text,
    validate_changes,
)
from agentdesk.domain.errors import FieldValueError, ValidationFailed

SheetFactory = Callable[..., dict[str, Any]]


def failure_of(data: dict[str, Any]) -> ValidationFailed:
    """The ValidationFailed that parsing ``data`` raises."""
    with pytest.raises(ValidationFailed) as caught:
        parse_customer(data)
    return caught.value


# --- phone numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "region"),
    [
        ("+47 22 33 44 55", None),
        ("0047 22334455", None),
        ("22 33 44 55", "NO"),
        ("+47 (22) 33-44.55", None),
        ("+4722334455", "CN"),
    ],
)
def test_norwegian_number_typed_any_way_is_stored_as_one_e164(
    typed: str, region: str | None
) -> None:
    # Given a Norwegian office number typed in international, 00 or national form
    # When it is normalised
    number = normalise_phone(typed, region)

    # Then it is always the same E.164 number
    assert number == "+4722334455"


@pytest.mark.parametrize(("typed", "region"), [("+86 6552 9988", None), ("6552 9988", "CN")])
def test_chinese_number_without_area_code_is_refused_asking_for_the_area_code(
    typed: str, region: str | None
) -> None:
    # Given a Beijing number typed without its area code 10
    # When it is normalised
    with pytest.raises(FieldValueError) as caught:
        normalise_phone(typed, region)

    # Then it is refused, and the message asks for the area code
    assert "area code" in str(caught.value)


def test_chinese_number_with_area_code_is_accepted() -> None:
    # Given the same Beijing number with its area code
    # When it is normalised
    number = normalise_phone("+86 10 6552 9988")

    # Then it is stored in E.164
    assert number == "+861065529988"


def test_national_number_without_default_region_is_refused_naming_the_country_code() -> None:
    # Given a number in national form and no default region to read it in
    # When it is normalised
    with pytest.raises(FieldValueError) as caught:
        normalise_phone("22 33 44 55")

    # Then the message says what is expected: + and the country code
    message = str(caught.value)
    assert "country code" in message
    assert "+" in message


def test_number_with_too_many_digits_is_refused() -> None:
    # Given a Norwegian number with digits too many
    # When it is normalised
    with pytest.raises(FieldValueError) as caught:
        normalise_phone("+47 22 33 44 55 66 77 88 99")

    # Then it is refused as too long
    assert "too many digits" in str(caught.value)


@pytest.mark.parametrize(
    "typed",
    ["+1 800 FLOWERS", "+47 22 33 44 55 ext 12", "+47 22 33 44 55x3", "+47 2233 44ab", "call me"],
)
def test_number_with_letters_is_refused_not_converted(typed: str) -> None:
    # Given a number with letters (a vanity number, an extension, a typo)
    # When it is normalised
    with pytest.raises(FieldValueError) as caught:
        normalise_phone(typed)

    # Then it is refused (never turned into another number), saying why
    assert "letters" in str(caught.value)


@pytest.mark.parametrize("typed", ["", "   ", None])
def test_empty_number_is_refused_asking_for_the_full_number(typed: str | None) -> None:
    # Given no number at all
    # When it is normalised
    with pytest.raises(FieldValueError) as caught:
        normalise_phone(typed)

    # Then the message asks for the full number
    assert "empty" in str(caught.value)


def test_number_given_as_json_number_is_refused_as_not_text() -> None:
    # Given a phone number that arrived as a JSON number instead of a string
    # When it is normalised
    with pytest.raises(FieldValueError) as caught:
        normalise_phone(4722334455)

    # Then the message says text was expected (not that the field is empty)
    assert "expected the number as text" in str(caught.value)


def test_refusal_quotes_the_number_as_typed() -> None:
    # Given a number typed with the 00 prefix that is not a number at all
    # When it is normalised
    with pytest.raises(FieldValueError) as caught:
        normalise_phone("00")

    # Then the message quotes what the user typed, not an internal rewrite of it
    assert "'00'" in str(caught.value)


def test_e164_number_is_displayed_in_international_form() -> None:
    # Given a stored E.164 number
    # When it is formatted for display
    shown = format_phone("+4722334455")

    # Then it is grouped the international way
    assert shown == "+47 22 33 44 55"


PHONE_TYPES = (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE)
EXAMPLE_NUMBERS = [
    (region, example)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    for kind in PHONE_TYPES
    if (example := phonenumbers.example_number_for_type(region, kind)) is not None
]


@settings(max_examples=300, database=None)
@given(
    case=st.sampled_from(EXAMPLE_NUMBERS),
    form=st.sampled_from(
        [PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL, PhoneNumberFormat.E164]
    ),
)
def test_valid_numbers_of_every_region_normalise_back_to_their_e164(
    case: tuple[str, phonenumbers.PhoneNumber], form: int
) -> None:
    # Given a valid example number of some region, written in one of the usual forms
    region, example = case
    typed = phonenumbers.format_number(example, form)
    expected = phonenumbers.format_number(example, PhoneNumberFormat.E164)

    # When it is normalised (national forms read in their own region)
    number = normalise_phone(typed, region if form == PhoneNumberFormat.NATIONAL else None)

    # Then it comes back as the same E.164 number
    assert number == expected


def test_example_numbers_cover_many_regions() -> None:
    # Given the example numbers the property test draws from
    # When their regions are counted
    regions = {region for region, _ in EXAMPLE_NUMBERS}

    # Then they span the world, including the desk's own countries
    assert len(regions) > 200
    assert {"CN", "NO", "IT", "RU", "GB", "US", "FI"} <= regions


def test_same_number_listed_twice_is_refused_on_the_second_entry(
    customer_factory: SheetFactory,
) -> None:
    # Given a sheet with the same number in two notations
    data = customer_factory(
        phones=["+47 22 33 44 55", {"label": "mobile", "number": "0047 22334455"}]
    )

    # When it is parsed
    failed = failure_of(data)

    # Then the second entry is named
    assert failed.by_field() == {"phones[1].number": "+47 22 33 44 55 is listed twice"}


def test_phone_label_is_case_insensitive_and_defaults_to_office(
    customer_factory: SheetFactory,
) -> None:
    # Given phones labelled in capitals and without a label
    data = customer_factory(
        phones=[{"label": "Mobile", "number": "+47 412 34 567"}, {"number": "+47 22 33 44 55"}]
    )

    # When the sheet is parsed
    sheet = parse_customer(data)

    # Then the labels are the standard lower-case ones
    assert [(p.label, p.number) for p in sheet.phones] == [
        ("mobile", "+4741234567"),
        ("office", "+4722334455"),
    ]


def test_unknown_phone_label_is_refused_listing_the_labels(
    customer_factory: SheetFactory,
) -> None:
    # Given a phone with a label the sheet does not know
    data = customer_factory(phones=[{"label": "fax", "number": "+47 22 33 44 55"}])

    # When the sheet is parsed
    failed = failure_of(data)

    # Then the label is named, with the labels that are allowed
    message = failed.by_field()["phones[0].label"]
    assert "office, mobile, switchboard, home, other" in message
    assert "'fax'" in message


# --- IP addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("10.20.1.15", "10.20.1.15"),
        (" 192.168.8.21 ", "192.168.8.21"),
        ("FD00:0000:0000:0000:0000:0000:0000:0015", "fd00::15"),
        ("fd44:a5c2:1e07:18:0:0:0:114", "fd44:a5c2:1e07:18::114"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
    ],
)
def test_ip_address_is_stored_in_canonical_form(typed: str, stored: str) -> None:
    # Given an IPv4 or IPv6 address as typed
    # When it is normalised
    address = normalise_ip(typed)

    # Then it is the canonical (IPv6 compressed, lower-case) form
    assert address == stored


@pytest.mark.parametrize(
    "typed", ["10.0.0.256", "10.0.0", "fd00:::1", "server.example.no", "10.0.0.1/24", "1.2.3.4.5"]
)
def test_malformed_ip_address_is_refused_naming_ipv4_or_ipv6(typed: str) -> None:
    # Given something that is not one IP address
    # When it is normalised
    with pytest.raises(FieldValueError) as caught:
        normalise_ip(typed)

    # Then the message says an IPv4 or IPv6 address is expected
    assert "IPv4 or IPv6" in str(caught.value)


# --- tier, name, e-mail, language, time zone ----------------------------------------------


@pytest.mark.parametrize(("typed", "tier"), [("A", "A"), ("a", "A"), (" b ", "B"), ("B", "B")])
def test_tier_accepts_a_and_b_in_either_case(typed: str, tier: str) -> None:
    # Given a tier typed in upper or lower case
    # When it is normalised
    # Then it is the upper-case tier
    assert normalise_tier(typed) == tier


@pytest.mark.parametrize("typed", ["C", "AB", "1", "", None])
def test_other_tiers_are_refused_explaining_a_and_b(typed: str | None) -> None:
    # Given a tier that is neither A nor B
    # When it is normalised
    with pytest.raises(FieldValueError) as caught:
        normalise_tier(typed)

    # Then the message explains both tiers
    message = str(caught.value)
    assert "A (critical" in message
    assert "B (in order of arrival)" in message


@pytest.mark.parametrize("typed", ["", "   ", None])
def test_empty_name_is_refused(typed: str | None) -> None:
    # Given no name
    # When it is normalised
    with pytest.raises(FieldValueError) as caught:
        normalise_name(typed)

    # Then the message asks for the full name
    assert "full name" in str(caught.value)


def test_name_is_trimmed_and_inner_spaces_collapsed() -> None:
    # Given a name typed with stray spaces
    # When it is normalised
    # Then it is trimmed and single-spaced
    assert normalise_name("  Bjørn   Ødegård ") == "Bjørn Ødegård"


def test_over_long_name_is_refused_with_the_limit() -> None:
    # Given a name longer than 200 characters
    # When it is normalised
    with pytest.raises(FieldValueError) as caught:
        normalise_name("王" * 201)

    # Then the limit is named
    assert "at most 200 characters" in str(caught.value)


def test_email_is_stored_in_lower_case() -> None:
    # Given an e-mail address in mixed case
    # When it is normalised
    # Then it is lower case
    assert normalise_email(" Wang.Wei@HuaXin-Logistics.CN ") == "wang.wei@huaxin-logistics.cn"


def test_empty_email_is_allowed() -> None:
    # Given a customer without e-mail
    # When the empty address is normalised
    # Then it stays empty
    assert normalise_email("") == ""


@pytest.mark.parametrize("typed", ["kari", "kari@oslo", "kari nordmann@oslo.no", "@oslo.no"])
def test_malformed_email_is_refused_with_an_example(typed: str) -> None:
    # Given something that is not an e-mail address
    # When it is normalised
    with pytest.raises(FieldValueError) as caught:
        normalise_email(typed)

    # Then the message shows what an address looks like
    assert "name@example.com" in str(caught.value)


@pytest.mark.parametrize(("typed", "code"), [("zh", "zh_CN"), ("zh_CN", "zh_CN"), ("nb", "nb")])
def test_language_accepts_the_desk_languages(typed: str, code: str) -> None:
    # Given a language code the desk serves
    # When it is normalised
    # Then it is the desk's code for it
    assert normalise_language(typed) == code


def test_unknown_language_is_refused_listing_the_choices() -> None:
    # Given a language the desk does not serve
    with pytest.raises(FieldValueError) as caught:
        # When it is normalised
        normalise_language("de")

    # Then the message lists the languages
    assert "en, zh_CN, nb, it, ru" in str(caught.value)


@pytest.mark.parametrize("zone", ["Europe/Oslo", "Asia/Shanghai", "Europe/Moscow", "UTC"])
def test_iana_time_zones_are_accepted(zone: str) -> None:
    # Given an IANA time zone name
    # When it is normalised
    # Then it is kept
    assert normalise_timezone(zone) == zone


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "GMT+1 Oslo", ""])
def test_unknown_time_zone_is_refused_with_an_example(zone: str) -> None:
    # Given something that is not a time zone name
    with pytest.raises(FieldValueError) as caught:
        # When it is normalised
        normalise_timezone(zone)

    # Then the message asks for an IANA name
    assert "IANA time zone such as Europe/Oslo" in str(caught.value)


def test_sheet_without_language_and_zone_gets_the_defaults() -> None:
    # Given a sheet with only a name
    # When it is parsed
    sheet = parse_customer({"name": "Ola Nordmann"})

    # Then the documented defaults apply
    assert (sheet.tier, sheet.language, sheet.timezone) == ("B", "en", "UTC")


# --- credentials and unknown fields -------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["password", "admin_pwd", "pin_code", "adminPwd", "credentials", "API-Secret", "PIN"]
)
def test_credential_field_on_the_sheet_is_refused(customer_factory: SheetFactory, key: str) -> None:
    # Given a sheet that carries a credential
    data = customer_factory(**{key: "hunter2"})

    # When it is parsed
    failed = failure_of(data)

    # Then the field is refused because credentials are never stored
    assert failed.by_field() == {key: "credentials are never stored on a customer sheet"}


@pytest.mark.parametrize("key", ["password", "admin_pwd", "pin_code", "windowsPassword"])
def test_credential_field_on_a_computer_is_refused(
    customer_factory: SheetFactory, key: str
) -> None:
    # Given a computer block that carries a credential
    data = customer_factory()
    data["devices"][0][key] = "hunter2"

    # When the sheet is parsed
    failed = failure_of(data)

    # Then the computer's field is refused with its path
    assert failed.by_field() == {
        f"devices[0].{key}": "credentials are never stored on a customer sheet"
    }


def test_words_that_merely_contain_pin_are_not_taken_for_credentials(
    customer_factory: SheetFactory,
) -> None:
    # Given a sheet with an unknown field whose name contains "pin" inside a word
    data = customer_factory(opinion="very happy")

    # When it is parsed
    failed = failure_of(data)

    # Then it is refused as an unknown field, not as a credential
    assert failed.by_field() == {"opinion": "is not a field of a customer sheet"}


def test_unknown_field_on_a_computer_is_refused(customer_factory: SheetFactory) -> None:
    # Given a computer with a field the sheet does not have
    data = customer_factory()
    data["devices"][0]["gpu"] = "RTX 4090"

    # When the sheet is parsed
    failed = failure_of(data)

    # Then that field of that computer is named
    assert failed.by_field() == {"devices[0].gpu": "is not a field of a computer"}


# --- whole sheets -------------------------------------------------------------------------


def test_every_bad_field_is_reported_at_once_with_its_path(
    customer_factory: SheetFactory,
) -> None:
    # Given a sheet with many mistakes, in nested places too
    data = customer_factory(
        name="  ",
        tier="C",
        email="not-an-address",
        language="klingon",
        phones=["+47 22 33 44 55", {"label": "mobile", "number": "+86 6552 9988"}],
        devices=[
            {"computer_name": "OSL-1", "ip_addresses": ["10.1.2.3", "10.1.2.300"]},
            {"computer_name": "OSL-2", "ip_addresses": "fd00::1; not-an-ip"},
        ],
    )

    # When it is parsed
    failed = failure_of(data)

    # Then every bad field is listed, each with its full path
    assert set(failed.by_field()) == {
        "name",
        "tier",
        "email",
        "language",
        "phones[1].number",
        "devices[0].ip_addresses[1]",
        "devices[1].ip_addresses[1]",
    }
    assert "devices[0].ip_addresses[1]: '10.1.2.300'" in str(failed)


def test_valid_sheet_is_parsed_into_normalised_values(customer_factory: SheetFactory) -> None:
    # Given a valid sheet typed loosely
    data = customer_factory(
        name=" Анна   Кузнецова ",
        tier="a",
        email="Anna@Example.RU",
        phones=[{"label": "office", "number": "+7 (495) 123-45-67"}],
        devices=[{"computer_name": "MSK-1", "ip_addresses": ["FD00:0:0:0::15", "10.0.0.1"]}],
    )

    # When it is parsed
    sheet = parse_customer(data)

    # Then every value is in its normal form
    assert sheet.name == "Анна Кузнецова"
    assert sheet.tier == "A"
    assert sheet.email == "anna@example.ru"
    assert sheet.phones[0].number == "+74951234567"
    assert sheet.devices[0].ip_addresses == ("fd00::15", "10.0.0.1")


def test_sheet_id_must_be_a_uuid(customer_factory: SheetFactory) -> None:
    # Given a sheet whose id is not a UUID
    data = customer_factory(id="customer-17")

    # When it is parsed
    failed = failure_of(data)

    # Then the id is named
    assert failed.by_field() == {"id": "must be a UUID, got 'customer-17'"}


def test_sheet_survives_its_own_dict_form(customer_factory: SheetFactory) -> None:
    # Given a parsed sheet
    sheet = parse_customer(customer_factory())

    # When its plain-data form is parsed again
    again = parse_customer(sheet.to_dict())

    # Then nothing changed
    assert again == sheet


# --- partial edits ------------------------------------------------------------------------


@pytest.fixture
def base_sheet(customer_factory: SheetFactory) -> Customer:
    return parse_customer(customer_factory(name="Kari Nordmann", email="kari@example.no"))


def test_edit_returns_only_the_fields_that_really_change(base_sheet: Customer) -> None:
    # Given an edit that retypes some values the same way and changes others
    changes = {
        "name": "  Kari   Nordmann ",
        "phones": [{"label": "office", "number": "0047 22334455"}],
        "email": "KARI.NY@EXAMPLE.NO",
        "tier": "a",
    }

    # When it is validated against the sheet
    changed = validate_changes(base_sheet, changes)

    # Then only the really changed fields come back, normalised
    assert changed == {"email": "kari.ny@example.no", "tier": "A"}


def test_edit_that_changes_nothing_returns_nothing(base_sheet: Customer) -> None:
    # Given an edit typing the phone in national form with a default region
    changes = {"phones": ["22 33 44 55"]}

    # When it is validated with Norway as the default region
    changed = validate_changes(base_sheet, changes, default_region="NO")

    # Then there is nothing to save
    assert changed == {}


def test_edit_of_a_field_that_is_not_editable_is_refused(base_sheet: Customer) -> None:
    # Given an edit of the id and the version
    # When it is validated
    with pytest.raises(ValidationFailed) as caught:
        validate_changes(base_sheet, {"id": "x", "version": 7})

    # Then both are named
    assert caught.value.by_field() == {"id": "cannot be edited", "version": "cannot be edited"}


def test_invalid_edit_names_the_field(base_sheet: Customer) -> None:
    # Given an edit with a bad address on the first computer
    devices = [{**base_sheet.devices[0].to_dict(), "ip_addresses": ["10.1.2.3", "999.1.1.1"]}]

    # When it is validated
    with pytest.raises(ValidationFailed) as caught:
        validate_changes(base_sheet, {"devices": devices})

    # Then the bad address is named by its path
    assert list(caught.value.by_field()) == ["devices[0].ip_addresses[1]"]


# --- search -------------------------------------------------------------------------------


@pytest.fixture
def sheets(customer_factory: SheetFactory) -> dict[str, Customer]:
    def sheet(**fields: Any) -> Customer:
        return parse_customer(customer_factory(**fields))

    return {
        "wang": sheet(
            name="王伟",
            organisation="华信物流有限公司",
            email="wang.wei@huaxin-logistics.cn",
            phones=["+86 10 6552 9988"],
            devices=[{"computer_name": "HX-BJ-FIN-01", "ip_addresses": ["10.20.1.15"]}],
        ),
        "bjorn": sheet(
            name="Bjørn Ødegård",
            organisation="Aker Sentralsykehus HF",
            email="bjorn.odegard@akersykehus.no",
            phones=["+47 22 89 41 17"],
            devices=[
                {
                    "computer_name": "ASH-INN-PC114",
                    "ip_addresses": ["10.44.18.114", "fd44:a5c2:1e07:18::114"],
                }
            ],
        ),
        "anna": sheet(
            name="Анна Кузнецова",
            organisation="ООО «Северсталь-Сервис»",
            email="a.kuznetsova@example.ru",
            phones=["+7 495 123-45-67"],
            devices=[{"computer_name": "MSK-ACC-07", "ip_addresses": ["192.168.10.7"]}],
        ),
        "tom": sheet(
            name="Tom Smith",
            organisation="Thames Water Works",
            email="tom.smith@example.co.uk",
            phones=["+44 20 7946 0018"],
            devices=[{"computer_name": "TWW-LDN-12", "ip_addresses": ["172.16.4.12"]}],
        ),
    }


def found(sheets: dict[str, Customer], query: str) -> set[str]:
    return {key for key, sheet in sheets.items() if matches(sheet, query)}


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("王", "wang"),
        ("王伟", "wang"),
        ("ødegård", "bjorn"),
        ("BJØRN", "bjorn"),
        ("кузнецова", "anna"),
        ("АННА", "anna"),
        ("tom smith", "tom"),
    ],
)
def test_name_is_found_case_insensitively_in_any_script(
    sheets: dict[str, Customer], query: str, who: str
) -> None:
    # Given sheets with Chinese, Norwegian, Cyrillic and English names
    # When a part of one name is searched in another case
    # Then exactly that sheet is found
    assert found(sheets, query) == {who}


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("22 89 41 17", "bjorn"),
        ("+47 22 89 41 17", "bjorn"),
        ("0047 2289 4117", "bjorn"),
        ("4722894117", "bjorn"),
        ("(22) 89-41-17", "bjorn"),
        ("+86 10 6552 9988", "wang"),
        ("6552 9988", "wang"),
        ("495 123 45 67", "anna"),
    ],
)
def test_phone_is_found_by_its_digits_however_typed(
    sheets: dict[str, Customer], query: str, who: str
) -> None:
    # Given sheets with phone numbers stored in E.164
    # When a number is typed with spaces, +, 00 or brackets
    # Then the sheet is found by its digits
    assert found(sheets, query) == {who}


@pytest.mark.parametrize(
    ("query", "who"),
    [("020 7946 0018", "tom"), ("010 6552 9988", "wang"), ("8 495 123-45-67", "anna")],
)
def test_phone_is_found_in_national_form_with_trunk_prefix(
    sheets: dict[str, Customer], query: str, who: str
) -> None:
    # Given sheets with British, Chinese and Russian numbers
    # When a number is typed as it is dialled inside its country (with the trunk prefix)
    # Then the sheet is found
    assert found(sheets, query) == {who}


def test_unknown_phone_number_finds_nothing(sheets: dict[str, Customer]) -> None:
    # Given the sheets
    # When a number nobody has is searched
    # Then nothing is found
    assert found(sheets, "+47 99 88 77 66") == set()


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("wang.wei@huaxin", "wang"),
        ("AKERSYKEHUS.NO", "bjorn"),
        ("华信物流", "wang"),
        ("северсталь", "anna"),
        ("thames water", "tom"),
        ("hx-bj-fin-01", "wang"),
        ("ASH-INN", "bjorn"),
        ("10.44.18.114", "bjorn"),
        ("192.168.10.7", "anna"),
        ("fd44:a5c2:1e07:18::114", "bjorn"),
        ("FD44:A5C2:1E07:18::114", "bjorn"),
    ],
)
def test_email_organisation_computer_and_ip_are_searchable(
    sheets: dict[str, Customer], query: str, who: str
) -> None:
    # Given sheets with e-mail, organisation, computers and addresses
    # When any of those is searched
    # Then the sheet is found
    assert found(sheets, query) == {who}


def test_every_term_of_a_query_must_match(sheets: dict[str, Customer]) -> None:
    # Given the sheets
    # When two terms are searched
    # Then only sheets matching both are found
    assert found(sheets, "bjørn aker") == {"bjorn"}
    assert found(sheets, "bjørn thames") == set()


def test_empty_query_matches_every_sheet(sheets: dict[str, Customer]) -> None:
    # Given the sheets
    # When nothing is typed
    # Then every sheet matches
    assert query_terms("   ") == []
    assert found(sheets, "") == set(sheets)


def test_a_partly_typed_ip_address_finds_the_address(sheets: dict[str, Customer]) -> None:
    # Given the sheets
    # When an agent has typed only the first three parts of an address
    # Then the computer with that address is found, not only numbers with those digits
    assert "bjorn" in found(sheets, "10.44.18")


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("+47 22 33", ["472233"]),
        ("0047 22 33 44", ["47223344"]),
        ("10.20.1.15", ["10.20.1.15"]),
        ("Bjørn  Ødegård", ["bjørn", "ødegård"]),
        ("12", ["12"]),
    ],
)
def test_query_terms_turn_phone_like_queries_into_digits(query: str, terms: list[str]) -> None:
    # Given a typed query
    # When it is split into terms
    # Then a phone-like query becomes its digits, an IPv4 address stays whole
    assert query_terms(query) == terms


def test_search_text_is_folded_and_holds_both_forms_of_each_number(
    sheets: dict[str, Customer],
) -> None:
    # Given a sheet with a mixed-case name and computer name
    sheet = sheets["bjorn"]

    # When its search text is built
    text = search_text(sheet)

    # Then it is case-folded and holds the values with the number in both forms
    assert text == text.casefold()
    for part in ("bjørn ødegård", "4722894117", "22894117", "ash-inn-pc114", "10.44.18.114"):
        assert part in text
