"""The customer information sheet and the rules every sheet obeys.

A sheet is validated here, once, for the desk, the server and the importer alike: each rule
raises an error that names the field and says what is expected.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Final, Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from agentdesk.domain.errors import FieldError, FieldValueError, ValidationFailed, has_unprintable

Tier = Literal["A", "B"]

TIERS: Final[dict[str, str]] = {
    "A": "critical: role tied to core operations, solve immediately",
    "B": "ordinary user, handled in order of arrival",
}

LANGUAGES: Final[dict[str, str]] = {
    "en": "English",
    "zh_CN": "中文（简体）",
    "nb": "Norsk bokmål",
    "it": "Italiano",
    "ru": "Русский",
    "fi": "Suomi",
}

PHONE_LABELS: Final[tuple[str, ...]] = ("office", "mobile", "switchboard", "home", "other")

#: Fields of a sheet that an edit may change, in the order a sheet shows them.
SHEET_FIELDS: Final[tuple[str, ...]] = (
    "name",
    "phones",
    "email",
    "organisation",
    "location",
    "tier",
    "account_manager",
    "language",
    "timezone",
    "department",
    "devices",
)

DEVICE_FIELDS: Final[tuple[str, ...]] = (
    "computer_name",
    "cpu",
    "memory",
    "disk",
    "network_card",
    "os",
    "software",
    "ip_addresses",
)

#: Keys that smell of credentials; a sheet refuses them outright (remote-support rule).
CREDENTIAL_WORDS: Final[tuple[str, ...]] = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "pin",
    "credential",
)

MAX_TEXT = 200
MAX_LONG_TEXT = 500
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")


@dataclass(frozen=True)
class Phone:
    """A phone number in E.164 with a label such as ``office`` or ``mobile``."""

    number: str
    label: str = "office"

    def display(self) -> str:
        return format_phone(self.number)

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "number": self.number}


@dataclass(frozen=True)
class Device:
    """One of the customer's computers: hardware and software, never credentials."""

    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    computer_name: str = ""
    cpu: str = ""
    memory: str = ""
    disk: str = ""
    network_card: str = ""
    os: str = ""
    software: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "computer_name": self.computer_name,
            "cpu": self.cpu,
            "memory": self.memory,
            "disk": self.disk,
            "network_card": self.network_card,
            "os": self.os,
            "software": list(self.software),
            "ip_addresses": list(self.ip_addresses),
        }


@dataclass(frozen=True)
class Customer:
    """A customer information sheet as the help desk keeps it."""

    id: str
    name: str
    tier: Tier = "B"
    phones: tuple[Phone, ...] = ()
    email: str = ""
    organisation: str = ""
    location: str = ""
    account_manager: str = ""
    language: str = "en"
    timezone: str = "UTC"
    department: str = ""
    devices: tuple[Device, ...] = ()
    version: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The sheet as plain JSON-ready data (the wire and file format)."""
        return {
            "id": self.id,
            "version": self.version,
            "name": self.name,
            "phones": [p.to_dict() for p in self.phones],
            "email": self.email,
            "organisation": self.organisation,
            "location": self.location,
            "tier": self.tier,
            "account_manager": self.account_manager,
            "language": self.language,
            "timezone": self.timezone,
            "department": self.department,
            "devices": [d.to_dict() for d in self.devices],
        }

    def sheet_values(self) -> dict[str, Any]:
        """Only the editable fields, as JSON-ready data."""
        data = self.to_dict()
        return {name: data[name] for name in SHEET_FIELDS}

    def with_changes(self, changes: Mapping[str, Any]) -> Customer:
        """A new sheet with ``changes`` (JSON-ready sheet fields) validated and applied."""
        merged = self.to_dict()
        merged.update(changes)
        return parse_customer(merged)

    def bump(self, version: int) -> Customer:
        return replace(self, version=version)


# --- single-value rules -------------------------------------------------------------------


def normalise_text(value: object, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    """Trimmed text; refuses non-text, over-long text and, when ``required``, empty text."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldValueError(f"expected text, got {type(value).__name__}")
    if has_unprintable(value):
        raise FieldValueError("contains control characters: type or paste plain text")
    text = " ".join(value.split()) if "\n" not in value else value.strip()
    if required and not text:
        raise FieldValueError("is required and cannot be empty")
    if len(text) > limit:
        raise FieldValueError(f"is too long: at most {limit} characters, got {len(text)}")
    return text


def normalise_name(value: object) -> str:
    try:
        return normalise_text(value, required=True)
    except FieldValueError as exc:
        if "required" in str(exc):
            raise FieldValueError("is required: enter the customer's full name") from None
        raise


def normalise_tier(value: object) -> Tier:
    """``A`` or ``B``; lower case is accepted."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if text == "A":
        return "A"
    if text == "B":
        return "B"
    raise FieldValueError(
        f"must be A (critical: solve immediately) or B (in order of arrival), got {value!r}"
    )


def normalise_email(value: object) -> str:
    text = normalise_text(value).lower()
    if text and not _EMAIL.match(text):
        raise FieldValueError(f"{text!r} is not an e-mail address (expected name@example.com)")
    return text


def normalise_ip(value: object) -> str:
    """An IPv4 or IPv6 address in its canonical (compressed) form."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise FieldValueError("is empty: enter an IPv4 or IPv6 address such as 10.0.0.15")
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        raise FieldValueError(
            f"{text!r} is not a valid IPv4 or IPv6 address (expected e.g. 10.0.0.15 or fd00::15)"
        ) from None


def normalise_language(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if text == "zh":
        text = "zh_CN"
    if text not in LANGUAGES:
        raise FieldValueError(f"must be one of {', '.join(LANGUAGES)}, got {value!r}")
    return text


@cache
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def normalise_timezone(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if text in ("UTC", "Etc/UTC") or text in _known_timezones():
        return text
    raise FieldValueError(f"must be an IANA time zone such as Europe/Oslo, got {value!r}")


def normalise_phone(value: object, default_region: str | None = None) -> str:
    """A phone number in E.164 (``+4722334455``), refusing numbers without area code.

    ``default_region`` (ISO 3166 code such as ``NO``) lets a number be typed in national
    form; without it the number must start with ``+`` or ``00`` and the country code.
    """
    if value is not None and not isinstance(value, str):
        raise FieldValueError(f"expected the number as text, got {type(value).__name__}")
    original = (value or "").strip()
    if not original:
        raise FieldValueError("is empty: enter the full number with country and area code")
    # phonenumbers would read letters as a vanity number (FLOWERS) or an extension (x12);
    # E.164 keeps neither, so refuse them instead of storing a different number.
    if any(c.isalpha() for c in original):
        raise FieldValueError(
            f"{original!r} contains letters: enter only digits, with + and the country code "
            "(e.g. +47 22 33 44 55)"
        )
    text = "+" + original[2:] if original.startswith("00") else original
    try:
        parsed = phonenumbers.parse(text, default_region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            raise FieldValueError(
                f"{original!r} has no country code: start with + and the country code, "
                "e.g. +47 22 33 44 55"
            ) from None
        raise FieldValueError(f"{original!r} is not a phone number") from None
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason in (ValidationResult.TOO_SHORT, ValidationResult.INVALID_LENGTH):
        raise FieldValueError(
            f"{original!r} is too short: include the area code (e.g. +86 10 6552 9988)"
        )
    if reason == ValidationResult.TOO_LONG:
        raise FieldValueError(f"{original!r} has too many digits")
    if not phonenumbers.is_valid_number(parsed):
        region = phonenumbers.region_code_for_number(parsed) or "its country"
        raise FieldValueError(
            f"{original!r} is not a valid number for {region}: "
            "include the area code and check the digits"
        )
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def normalise_phone_label(value: object) -> str:
    """One of :data:`PHONE_LABELS`; empty means ``office``, case is ignored."""
    text = normalise_text(value).lower() or "office"
    if text not in PHONE_LABELS:
        raise FieldValueError(f"must be one of {', '.join(PHONE_LABELS)}, got {value!r}")
    return text


def format_phone(e164: str) -> str:
    """International display form of an E.164 number (``+47 22 33 44 55``)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, PhoneNumberFormat.INTERNATIONAL)


def refuse_credentials(keys: Sequence[str], where: str = "") -> list[FieldError]:
    """Errors for any key that looks like a credential: the desk never stores them."""
    errors = []
    for key in keys:
        # adminPwd, pin_code, API-Secret, credentials: split camel case too, allow plurals.
        words = {w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", key)}
        words |= {w[:-1] for w in words if w.endswith("s")}
        if words & set(CREDENTIAL_WORDS) or "password" in key.lower():
            errors.append(
                FieldError(f"{where}{key}", "credentials are never stored on a customer sheet")
            )
    return errors


# --- whole-sheet parsing ------------------------------------------------------------------


def _long_text(value: object) -> str:
    return normalise_text(value, limit=MAX_LONG_TEXT)


def _check(errors: list[FieldError], path: str, rule: Any, value: object, *args: Any) -> Any:
    try:
        return rule(value, *args)
    except FieldValueError as exc:
        errors.append(FieldError(path, str(exc)))
        return None


def _parse_phones(errors: list[FieldError], value: object, region: str | None) -> list[Phone]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(FieldError("phones", "expected a list of phone numbers"))
        return []
    phones: list[Phone] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        path = f"phones[{i}]"
        raw: object
        label: object
        if isinstance(item, str):
            raw, label = item, "office"
        elif isinstance(item, Mapping):
            raw, label = item.get("number"), item.get("label") or "office"
        else:
            errors.append(FieldError(path, "expected a phone number"))
            continue
        number = _check(errors, f"{path}.number", normalise_phone, raw, region)
        label_text = _check(errors, f"{path}.label", normalise_phone_label, label)
        if number is None or label_text is None:
            continue
        if number in seen:
            errors.append(FieldError(f"{path}.number", f"{format_phone(number)} is listed twice"))
            continue
        seen.add(number)
        phones.append(Phone(number=number, label=label_text))
    return phones


def _parse_text_list(
    errors: list[FieldError], path: str, value: object, rule: Any
) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [part for part in re.split(r"[;\n]", value) if part.strip()]
    if not isinstance(value, list):
        errors.append(FieldError(path, "expected a list"))
        return ()
    out: list[str] = []
    for i, item in enumerate(value):
        parsed = _check(errors, f"{path}[{i}]", rule, item)
        if parsed:
            out.append(parsed)
    return tuple(out)


def _parse_device(errors: list[FieldError], i: int, value: object) -> Device | None:
    path = f"devices[{i}]"
    if not isinstance(value, Mapping):
        errors.append(FieldError(path, "expected a computer with hardware and software fields"))
        return None
    errors.extend(refuse_credentials(list(value), f"{path}."))
    unknown = set(value) - set(DEVICE_FIELDS) - {"id"}
    for key in sorted(unknown):
        if not refuse_credentials([key]):
            errors.append(FieldError(f"{path}.{key}", "is not a field of a computer"))
    texts = {
        name: _check(errors, f"{path}.{name}", normalise_text, value.get(name))
        for name in ("computer_name", "cpu", "memory", "disk", "network_card", "os")
    }
    software = _parse_text_list(errors, f"{path}.software", value.get("software"), normalise_text)
    ips = _parse_text_list(errors, f"{path}.ip_addresses", value.get("ip_addresses"), normalise_ip)
    device_id = value.get("id") or str(uuid.uuid4())
    return Device(
        id=str(device_id),
        software=software,
        ip_addresses=ips,
        **{k: v or "" for k, v in texts.items()},
    )


#: Fields of a canonical sheet and of a computer that hold text (the rest hold lists).
_SHEET_TEXTS: Final = tuple(f for f in SHEET_FIELDS if f not in ("phones", "devices"))
_DEVICE_TEXTS: Final = (
    "id",
    *(f for f in DEVICE_FIELDS if f not in ("software", "ip_addresses")),
)
_E164: Final = re.compile(r"\+[1-9]\d{5,15}")


def sheet_shape_problem(data: Mapping[str, Any]) -> str | None:
    """What is wrong with the shape of a sheet the server has already validated, or None.

    A desk pulling a whole region's sheets does not validate each one again (that costs
    more than storing it): it checks that the sheet has the canonical shape that
    :meth:`Customer.to_dict` gives, every field present with the right type, so a garbled
    record is skipped instead of stored. Unknown fields are allowed (a newer server); the
    caller keeps only the known ones.
    """
    # Plain loops: this runs for every sheet of a first sync.
    if not isinstance(data, Mapping):
        return "expected a sheet"
    for key in ("id", *_SHEET_TEXTS):
        if type(data.get(key)) is not str:
            return f"{key}: expected text"
    if not data["name"].strip():
        return "name: missing"
    if data["tier"] not in TIERS:
        return f"tier: expected one of {', '.join(TIERS)}"
    phones = data.get("phones")
    if type(phones) is not list:
        return "phones: expected a list"
    for i, phone in enumerate(phones):
        if (
            not isinstance(phone, Mapping)
            or type(phone.get("label")) is not str
            or type(phone.get("number")) is not str
            or not _E164.fullmatch(phone["number"])
        ):
            return f"phones[{i}]: expected a labelled number in international form"
    devices = data.get("devices")
    if type(devices) is not list:
        return "devices: expected a list of computers"
    for i, device in enumerate(devices):
        if not isinstance(device, Mapping):
            return f"devices[{i}]: expected a computer"
        for key in _DEVICE_TEXTS:
            if type(device.get(key)) is not str:
                return f"devices[{i}].{key}: expected text"
        for key in ("software", "ip_addresses"):
            items = device.get(key)
            if type(items) is not list:
                return f"devices[{i}].{key}: expected a list of text"
            for item in items:
                if type(item) is not str:
                    return f"devices[{i}].{key}: expected a list of text"
    return None


def parse_customer(data: Mapping[str, Any], *, default_region: str | None = None) -> Customer:
    """Validate raw sheet data (from a form, the wire or a file) into a :class:`Customer`.

    Raises :class:`ValidationFailed` listing every invalid field.
    """
    errors: list[FieldError] = refuse_credentials(list(data))
    known = {*SHEET_FIELDS, "id", "version"}
    for key in sorted(set(data) - known):
        if not refuse_credentials([key]):
            errors.append(FieldError(key, "is not a field of a customer sheet"))

    raw_id = data.get("id") or str(uuid.uuid4())
    try:
        customer_id = str(uuid.UUID(str(raw_id)))
    except ValueError:
        errors.append(FieldError("id", f"must be a UUID, got {raw_id!r}"))
        customer_id = str(uuid.uuid4())
    version = data.get("version") or 0
    if not isinstance(version, int) or version < 0:
        errors.append(FieldError("version", "must be a whole number ≥ 0"))
        version = 0

    name = _check(errors, "name", normalise_name, data.get("name"))
    tier = _check(errors, "tier", normalise_tier, data.get("tier", "B"))
    email = _check(errors, "email", normalise_email, data.get("email"))
    organisation = _check(errors, "organisation", normalise_text, data.get("organisation"))
    location = _check(errors, "location", _long_text, data.get("location"))
    manager = _check(errors, "account_manager", normalise_text, data.get("account_manager"))
    language = _check(errors, "language", normalise_language, data.get("language") or "en")
    timezone = _check(errors, "timezone", normalise_timezone, data.get("timezone") or "UTC")
    department = _check(errors, "department", normalise_text, data.get("department"))
    phones = _parse_phones(errors, data.get("phones"), default_region)

    devices_raw = data.get("devices") or []
    devices: list[Device] = []
    if not isinstance(devices_raw, list):
        errors.append(FieldError("devices", "expected a list of computers"))
    else:
        for i, item in enumerate(devices_raw):
            device = _parse_device(errors, i, item)
            if device is not None:
                devices.append(device)

    if errors:
        raise ValidationFailed(errors)
    return Customer(
        id=customer_id,
        version=version,
        name=name,
        tier=tier,
        phones=tuple(phones),
        email=email,
        organisation=organisation,
        location=location,
        account_manager=manager,
        language=language,
        timezone=timezone,
        department=department,
        devices=tuple(devices),
    )


def validate_changes(
    base: Customer, changes: Mapping[str, Any], *, default_region: str | None = None
) -> dict[str, Any]:
    """Validate a partial edit against ``base`` and return the changed fields, normalised.

    Only fields whose normalised value differs from ``base`` are returned, so an edit that
    changes nothing produces nothing to sync.
    """
    errors = [FieldError(k, "cannot be edited") for k in changes if k not in SHEET_FIELDS]
    if errors:
        raise ValidationFailed(errors)
    merged = base.to_dict()
    merged.update(changes)
    updated = parse_customer(merged, default_region=default_region)
    before, after = base.sheet_values(), updated.sheet_values()
    return {k: after[k] for k in changes if after[k] != before[k]}


# --- search -------------------------------------------------------------------------------


def phone_digits(e164: str) -> str:
    """Digits of a number in international and national form, for digit search.

    The national form keeps its trunk prefix (``020 7946 0018``, ``010 6552 9988``) so a
    number typed as a caller ID shows it nationally is found too.
    """
    digits = e164.lstrip("+")
    try:
        parsed = phonenumbers.parse(e164, None)
    except NumberParseException:
        return digits
    national = phonenumbers.national_significant_number(parsed)
    dialled = re.sub(r"\D", "", phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL))
    return " ".join(dict.fromkeys((digits, national, dialled)))


def search_text(customer: Customer) -> str:
    """Lower-cased text a query is matched against: name, contacts, computers, addresses."""
    parts = [customer.name, customer.email, customer.organisation, customer.location]
    parts += [phone_digits(p.number) for p in customer.phones]
    for device in customer.devices:
        parts += [device.computer_name, *device.ip_addresses]
    return " ".join(p for p in parts if p).casefold()


def escape_like(term: str) -> str:
    """``term`` for a SQL ``LIKE … ESCAPE '\\'`` pattern, its wildcards taken literally."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def query_alternatives(query: str) -> list[tuple[str, ...]]:
    """Terms of a typed query, each with the forms any of which may match.

    A phone-like query becomes its digits (``+47 22 33`` → 472233). Digits with dots and no
    spaces may be an IP address being typed (``10.132.2``) or a number written with dots
    (``22.33.44.55``): both forms are tried.
    """
    query = query.strip().casefold()
    if not query:
        return []
    if re.fullmatch(r"[+\d\s().\-/]+", query) and sum(c.isdigit() for c in query) >= 3:
        digits = re.sub(r"\D", "", query)
        if query.startswith("00"):
            digits = digits[2:]
        if re.fullmatch(r"[\d.]+", query) and "." in query:
            return [(query, digits)]
        return [(digits,)]
    return [(term,) for term in query.split()]


def query_terms(query: str) -> list[str]:
    """The first form of each term of a typed query (see :func:`query_alternatives`)."""
    return [forms[0] for forms in query_alternatives(query)]


def matches(customer: Customer, query: str) -> bool:
    text = search_text(customer)
    return all(any(form in text for form in forms) for forms in query_alternatives(query))
