"""Realistic customer sheets, reproducible from a seed, at any size.

Sheet ``i`` of seed ``s`` is always the same sheet, whatever else is generated: each sheet
draws from its own random stream, so a million sheets can be made in parallel chunks or one
sheet looked up again by its index. The sheets come out in their canonical form, exactly what
``parse_customer(sheet).to_dict()`` returns, so they can be stored without parsing them again.

    python -m benchmarks.generate --count 5 --seed 7          # print five sheets as JSON
    python -m benchmarks.generate --verify 20000              # parse and check every sheet
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

DEFAULT_SEED: Final = 20_240_601

Pair = tuple[str, str]  # (as written, ASCII for e-mail addresses and computer names)

_ASCII: Final = str.maketrans(
    {
        "æ": "ae",
        "ø": "o",
        "å": "aa",
        "ä": "a",
        "ö": "o",
        "ü": "u",
        "é": "e",
        "è": "e",
        "à": "a",
        "ì": "i",
        "ò": "o",
        "ù": "u",
        "'": "",
        " ": "",
        "-": "",
        ".": "",
    }
)


def _latin(*names: str) -> tuple[Pair, ...]:
    return tuple((name, name.lower().translate(_ASCII)) for name in names)


@dataclass(frozen=True)
class Country:
    """Everything a sheet from one country draws on; names and places agree with it."""

    region: str  # ISO 3166, for phone numbers
    language: str
    weight: float
    given: tuple[Pair, ...]
    family: tuple[Pair, ...]
    #: (city, code for computer names, time zone, "{n}"-template of an address in that city)
    places: tuple[tuple[str, str, str, str], ...]
    org_first: tuple[Pair, ...]
    org_second: tuple[Pair, ...]
    org_pattern: str  # "{a}", "{b}": the two parts as written
    domain_pattern: str  # "{a}", "{b}": their ASCII forms
    software: tuple[str, ...]
    floor: str  # "{n}": which floor of the building
    family_first: bool = False  # 王伟: family name first, no space
    #: Russian family names agree with the given name: Иванов / Иванова.
    feminine_given: frozenset[str] = frozenset()


_RU_FAMILY: Final = (
    ("Иванов", "ivanov"),
    ("Смирнов", "smirnov"),
    ("Кузнецов", "kuznetsov"),
    ("Попов", "popov"),
    ("Волков", "volkov"),
    ("Соколов", "sokolov"),
    ("Лебедев", "lebedev"),
    ("Новиков", "novikov"),
    ("Морозов", "morozov"),
    ("Фёдоров", "fedorov"),
    ("Соловьёв", "solovyov"),
    ("Васильев", "vasilyev"),
)

COUNTRIES: Final[tuple[Country, ...]] = (
    Country(
        region="CN",
        floor="{n} 楼",
        language="zh_CN",
        weight=0.22,
        family_first=True,
        given=(
            ("伟", "wei"),
            ("静", "jing"),
            ("敏", "min"),
            ("磊", "lei"),
            ("洋", "yang"),
            ("艳", "yan"),
            ("勇", "yong"),
            ("军", "jun"),
            ("杰", "jie"),
            ("娟", "juan"),
            ("涛", "tao"),
            ("明", "ming"),
            ("秀英", "xiuying"),
            ("建华", "jianhua"),
            ("志强", "zhiqiang"),
            ("丽娜", "lina"),
            ("晓东", "xiaodong"),
            ("海燕", "haiyan"),
        ),
        family=(
            ("王", "wang"),
            ("李", "li"),
            ("张", "zhang"),
            ("刘", "liu"),
            ("陈", "chen"),
            ("杨", "yang"),
            ("黄", "huang"),
            ("赵", "zhao"),
            ("吴", "wu"),
            ("周", "zhou"),
            ("徐", "xu"),
            ("孙", "sun"),
            ("欧阳", "ouyang"),
        ),
        places=(
            ("北京", "BJ", "Asia/Shanghai", "北京市朝阳区建国路 {n} 号"),
            ("上海", "SH", "Asia/Shanghai", "上海市浦东新区世纪大道 {n} 号"),
            ("广州", "GZ", "Asia/Shanghai", "广州市天河区天河路 {n} 号"),
            ("深圳", "SZ", "Asia/Shanghai", "深圳市南山区科技园路 {n} 号"),
            ("成都", "CD", "Asia/Shanghai", "成都市武侯区人民南路 {n} 号"),
            ("杭州", "HZ", "Asia/Shanghai", "杭州市西湖区文三路 {n} 号"),
        ),
        org_first=(
            ("华信", "huaxin"),
            ("东方", "dongfang"),
            ("长城", "changcheng"),
            ("天元", "tianyuan"),
            ("金桥", "jinqiao"),
            ("恒通", "hengtong"),
            ("瑞丰", "ruifeng"),
            ("中科", "zhongke"),
        ),
        org_second=(
            ("物流", "logistics"),
            ("科技", "tech"),
            ("制药", "pharma"),
            ("能源", "energy"),
            ("建设", "construction"),
            ("贸易", "trading"),
        ),
        org_pattern="{a}{b}有限公司",
        domain_pattern="{a}-{b}.cn",
        software=("用友 U8 财务软件", "金蝶 K/3 Cloud", "WPS Office", "钉钉", "企业微信"),
    ),
    Country(
        region="NO",
        floor="{n}. etasje",
        language="nb",
        weight=0.20,
        given=_latin(
            "Bjørn",
            "Åse",
            "Kåre",
            "Sølvi",
            "Ørjan",
            "Jørgen",
            "Ingrid",
            "Ragnhild",
            "Håkon",
            "Tormod",
            "Siv",
            "Øystein",
            "Kari",
            "Lars",
            "Mette",
            "Trond",
            "Bjørg",
            "Tønnes",
        ),
        family=_latin(
            "Bjørnstad",
            "Sæther",
            "Løvås",
            "Haugen",
            "Bråten",
            "Øvrebø",
            "Strøm",
            "Hågensen",
            "Aasen",
            "Kjærnes",
            "Dæhli",
            "Solberg",
            "Lie",
            "Fjærli",
        ),
        places=(
            ("Oslo", "OSL", "Europe/Oslo", "Storgata {n}, 0155 Oslo"),
            ("Bergen", "BGO", "Europe/Oslo", "Bryggen {n}, 5003 Bergen"),
            ("Trondheim", "TRD", "Europe/Oslo", "Kongens gate {n}, 7011 Trondheim"),
            ("Stavanger", "SVG", "Europe/Oslo", "Kirkegata {n}, 4006 Stavanger"),
            ("Tromsø", "TOS", "Europe/Oslo", "Sjøgata {n}, 9008 Tromsø"),
            ("Ålesund", "AES", "Europe/Oslo", "Apotekergata {n}, 6004 Ålesund"),
            ("Bodø", "BOO", "Europe/Oslo", "Dronningens gate {n}, 8006 Bodø"),
        ),
        org_first=_latin("Fjord", "Nordlys", "Bølgen", "Vestkyst", "Måke", "Havbruk", "Sørlys"),
        org_second=_latin("Elektro", "Regnskap", "Transport", "Eiendom", "Fiskeri", "Data"),
        org_pattern="{a} {b} AS",
        domain_pattern="{a}{b}.no",
        software=("Tripletex", "Visma Business", "Uni Micro", "Fiken", "BankID"),
    ),
    Country(
        region="IT",
        floor="piano {n}",
        language="it",
        weight=0.14,
        given=_latin(
            "Marco",
            "Giulia",
            "Alessandro",
            "Francesca",
            "Luca",
            "Chiara",
            "Giovanni",
            "Sofia",
            "Matteo",
            "Elena",
            "Niccolò",
            "Lucrezia",
        ),
        family=_latin(
            "Rossi",
            "Russo",
            "Ferrari",
            "Esposito",
            "Bianchi",
            "Romano",
            "Colombo",
            "Ricci",
            "Marino",
            "Greco",
            "D'Angelo",
            "Conti",
            "De Luca",
            "Mancini",
        ),
        places=(
            ("Milano", "MIL", "Europe/Rome", "Via Torino {n}, 20123 Milano (MI)"),
            ("Roma", "ROM", "Europe/Rome", "Via Nazionale {n}, 00184 Roma (RM)"),
            ("Torino", "TOR", "Europe/Rome", "Corso Vittorio Emanuele II {n}, 10121 Torino (TO)"),
            ("Napoli", "NAP", "Europe/Rome", "Via Toledo {n}, 80134 Napoli (NA)"),
            ("Bologna", "BLQ", "Europe/Rome", "Via dell'Indipendenza {n}, 40121 Bologna (BO)"),
            ("Firenze", "FLR", "Europe/Rome", "Via de' Calzaiuoli {n}, 50122 Firenze (FI)"),
        ),
        org_first=_latin("Tecno", "Lombarda", "Adriatica", "Appennino", "Solaris", "Ligure"),
        org_second=_latin("Servizi", "Logistica", "Impianti", "Farmaceutici", "Informatica"),
        org_pattern="{a} {b} S.r.l.",
        domain_pattern="{a}{b}.it",
        software=("TeamSystem", "Zucchetti Paghe", "Fatture in Cloud", "Aruba PEC"),
    ),
    Country(
        region="RU",
        floor="этаж {n}",
        language="ru",
        weight=0.14,
        given=(
            ("Алексей", "aleksey"),
            ("Дмитрий", "dmitry"),
            ("Сергей", "sergey"),
            ("Андрей", "andrey"),
            ("Иван", "ivan"),
            ("Михаил", "mikhail"),
            ("Ольга", "olga"),
            ("Наталья", "natalya"),
            ("Елена", "elena"),
            ("Татьяна", "tatyana"),
            ("Анна", "anna"),
            ("Юлия", "yulia"),
        ),
        feminine_given=frozenset({"Ольга", "Наталья", "Елена", "Татьяна", "Анна", "Юлия"}),
        family=_RU_FAMILY,
        places=(
            ("Москва", "MSK", "Europe/Moscow", "Москва, ул. Тверская, д. {n}"),
            ("Санкт-Петербург", "SPB", "Europe/Moscow", "Санкт-Петербург, Невский пр., д. {n}"),
            ("Казань", "KZN", "Europe/Moscow", "Казань, ул. Баумана, д. {n}"),
            ("Новосибирск", "NSK", "Asia/Novosibirsk", "Новосибирск, Красный пр., д. {n}"),
            ("Екатеринбург", "EKB", "Asia/Yekaterinburg", "Екатеринбург, ул. Ленина, д. {n}"),
            ("Владивосток", "VVO", "Asia/Vladivostok", "Владивосток, ул. Светланская, д. {n}"),
        ),
        org_first=(
            ("Сибирь", "sibir"),
            ("Волга", "volga"),
            ("Альфа", "alfa"),
            ("Восток", "vostok"),
            ("Север", "sever"),
            ("Урал", "ural"),
        ),
        org_second=(
            ("Логистик", "logistic"),
            ("Энерго", "energo"),
            ("Строй", "stroy"),
            ("Телеком", "telecom"),
            ("Фарм", "farm"),
        ),
        org_pattern="ООО «{a}{b}»",
        domain_pattern="{a}{b}.ru",
        software=("1С:Предприятие 8.3", "КонсультантПлюс", "Контур.Экстерн", "Яндекс Браузер"),
    ),
    Country(
        region="GB",
        floor="floor {n}",
        language="en",
        weight=0.10,
        given=_latin(
            "Oliver",
            "Amelia",
            "Harry",
            "Isla",
            "George",
            "Emily",
            "Jack",
            "Charlotte",
            "James",
            "Sophie",
            "Siobhan",
            "Rhys",
        ),
        family=_latin(
            "Smith",
            "Jones",
            "Taylor",
            "Brown",
            "Williams",
            "Wilson",
            "Davies",
            "Evans",
            "Thomas",
            "O'Brien",
            "Campbell",
            "Hughes",
        ),
        places=(
            ("London", "LON", "Europe/London", "{n} Farringdon Road, London EC1M 3HE"),
            ("Leeds", "LDS", "Europe/London", "{n} Park Row, Leeds LS1 5HD"),
            ("Manchester", "MAN", "Europe/London", "{n} Deansgate, Manchester M3 2BW"),
            ("Bristol", "BRS", "Europe/London", "{n} Corn Street, Bristol BS1 1HT"),
            ("Edinburgh", "EDI", "Europe/London", "{n} George Street, Edinburgh EH2 2PF"),
        ),
        org_first=_latin("Northwind", "Albion", "Thames", "Pennine", "Harbour", "Kestrel"),
        org_second=_latin("Logistics", "Accounting", "Engineering", "Health", "Legal"),
        org_pattern="{a} {b} Ltd",
        domain_pattern="{a}-{b}.co.uk",
        software=("Sage 50 Accounts", "Xero", "QuickBooks Online"),
    ),
    Country(
        region="US",
        floor="floor {n}",
        language="en",
        weight=0.12,
        given=_latin(
            "Michael",
            "Jennifer",
            "David",
            "Jessica",
            "Robert",
            "Ashley",
            "Daniel",
            "Maria",
            "Kevin",
            "Lauren",
            "Carlos",
            "Priya",
        ),
        family=_latin(
            "Johnson",
            "Miller",
            "Garcia",
            "Martinez",
            "Anderson",
            "Jackson",
            "Lee",
            "Nguyen",
            "Patel",
            "Robinson",
            "Walker",
            "Young",
        ),
        places=(
            ("New York", "NYC", "America/New_York", "{n} Broadway, New York, NY 10006"),
            ("Chicago", "CHI", "America/Chicago", "{n} W Madison St, Chicago, IL 60602"),
            ("Denver", "DEN", "America/Denver", "{n} 17th St, Denver, CO 80202"),
            ("Seattle", "SEA", "America/Los_Angeles", "{n} Pine St, Seattle, WA 98101"),
            ("Boston", "BOS", "America/New_York", "{n} Congress St, Boston, MA 02109"),
        ),
        org_first=_latin("Summit", "Lakeside", "Redwood", "Keystone", "Liberty", "Prairie"),
        org_second=_latin("Logistics", "Dental", "Systems", "Insurance", "Foods"),
        org_pattern="{a} {b} Inc.",
        domain_pattern="{a}{b}.com",
        software=("QuickBooks Desktop", "Salesforce", "DocuSign", "Epic Hyperspace"),
    ),
    Country(
        region="FI",
        floor="{n}. kerros",
        language="fi",
        weight=0.08,
        given=_latin("Aino", "Juha", "Mikko", "Päivi", "Sari", "Jyrki", "Tuula", "Väinö"),
        family=_latin(
            "Virtanen",
            "Korhonen",
            "Mäkinen",
            "Nieminen",
            "Hämäläinen",
            "Järvinen",
            "Heikkinen",
            "Lähteenmäki",
        ),
        places=(
            ("Helsinki", "HEL", "Europe/Helsinki", "Mannerheimintie {n}, 00100 Helsinki"),
            ("Tampere", "TMP", "Europe/Helsinki", "Hämeenkatu {n}, 33100 Tampere"),
            ("Oulu", "OUL", "Europe/Helsinki", "Kirkkokatu {n}, 90100 Oulu"),
            ("Turku", "TKU", "Europe/Helsinki", "Aurakatu {n}, 20100 Turku"),
        ),
        org_first=_latin("Pohjola", "Saimaa", "Lappi", "Kaleva", "Päijät"),
        org_second=_latin("Sähkö", "Kuljetus", "Tilitoimisto", "Rakennus"),
        org_pattern="{a}n {b} Oy",
        domain_pattern="{a}{b}.fi",
        software=("Netvisor", "Procountor", "Fennoa"),
    ),
)

ACCOUNT_MANAGERS: Final = (
    "Kari Nordmann",
    "Ingrid Solberg",
    "Marco Rossi",
    "李伟",
    "Anna Virtanen",
    "Ольга Смирнова",
    "Sarah Mitchell",
)
DEPARTMENTS: Final = ("Service Desk", "Service Desk", "Service Desk", "Field Service")
ROLES: Final = ("FIN", "HR", "OPS", "SAL", "IT", "ENG", "LAB", "WH", "RCP", "MGT")
CPUS: Final = (
    "Intel Core i5-1245U",
    "Intel Core i7-12700",
    "Intel Core i7-1365U",
    "Intel Core i3-10100",
    "AMD Ryzen 5 PRO 5650U",
    "AMD Ryzen 7 PRO 7840U",
    "Apple M2",
    "Intel Xeon W-2245",
)
MEMORY: Final = ("8 GB DDR4", "16 GB DDR4", "32 GB DDR5", "16 GB LPDDR5", "64 GB DDR4 ECC")
DISKS: Final = (
    "256 GB NVMe SSD",
    "512 GB NVMe SSD",
    "1 TB NVMe SSD",
    "2 TB SATA HDD",
    "500 GB SATA SSD",
)
NICS: Final = (
    "Intel I219-V Gigabit",
    "Realtek RTL8111H",
    "Intel Wi-Fi 6E AX211",
    "Broadcom BCM5720",
    "Intel X710 10GbE",
)
SYSTEMS: Final = (
    "Windows 11 Pro 23H2",
    "Windows 11 Pro 23H2",
    "Windows 10 Pro 22H2",
    "Ubuntu 22.04 LTS",
    "macOS 14 Sonoma",
    "Windows Server 2022",
)
COMMON_SOFTWARE: Final = (
    "Microsoft Office 2021",
    "Microsoft 365 Apps",
    "Google Chrome",
    "Mozilla Firefox",
    "Adobe Acrobat Reader",
    "7-Zip",
    "Zoom",
    "Microsoft Teams",
    "TeamViewer",
    "Visual Studio Code",
    "LibreOffice 7.6",
    "Slack",
)


# --- phone numbers --------------------------------------------------------------------------

#: How many trailing digits of each example number may vary; checked by sampling, below.
_PHONE_VARIABLE_DIGITS: Final = (6, 5, 4, 3)
_PHONE_SAMPLES: Final = 200


@dataclass(frozen=True)
class PhoneTemplate:
    """A valid example number whose last ``digits`` digits can be anything."""

    prefix: str  # E.164 without the variable digits
    digits: int


def _variable_digits(e164: str) -> int:
    rng = random.Random(e164)  # the choice is part of the reproducible output
    for k in _PHONE_VARIABLE_DIGITS:
        if all(
            phonenumbers.is_valid_number(
                phonenumbers.parse(e164[:-k] + f"{rng.randrange(10**k):0{k}d}", None)
            )
            for _ in range(_PHONE_SAMPLES)
        ):
            return k
    raise RuntimeError(f"no variable digits keep {e164} valid")


@cache
def phone_templates(region: str) -> tuple[PhoneTemplate, PhoneTemplate]:
    """(landline, mobile) templates of a region, from ``phonenumbers``' example numbers."""
    out = []
    for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            raise RuntimeError(f"phonenumbers has no example {kind} number for {region}")
        e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
        k = _variable_digits(e164)
        out.append(PhoneTemplate(prefix=e164[:-k], digits=k))
    return out[0], out[1]


# --- sheets ---------------------------------------------------------------------------------


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return [c / total for c in out]


_N_SOFTWARE: Final = len(COMMON_SOFTWARE)
_SOFTWARE_STRIDE: Final = 5  # coprime with _N_SOFTWARE
_COUNTRY_CDF: Final = _cumulative([c.weight for c in COUNTRIES])
_UUID_CLEAR: Final = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_SET: Final = (0x4000 << 64) | (0x8000 << 48)


def _uuid4(bits: int) -> str:
    """``str(uuid.UUID(int=bits, version=4))``, without the object."""
    h = f"{(bits & _UUID_CLEAR) | _UUID_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _private_subnet(rand: Callable[[], float]) -> str:
    r = rand()
    if r < 0.5:
        return f"10.{int(rand() * 256)}.{int(rand() * 256)}."
    if r < 0.75:
        return f"172.{16 + int(rand() * 16)}.{int(rand() * 256)}."
    return f"192.168.{int(rand() * 256)}."


class SheetGenerator:
    """Makes sheet ``index`` of a seed; the same inputs always give the same sheet."""

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self.seed = seed
        self._rng = random.Random()
        self._phones = {c.region: phone_templates(c.region) for c in COUNTRIES}

    def sheet(self, index: int) -> dict[str, Any]:
        rng = self._rng
        rng.seed(self.seed * 1_000_000_007 + index)
        rand = rng.random

        # Index arithmetic on random() is several times faster than choice()/randrange().
        def pick(seq: Sequence[Any]) -> Any:
            return seq[int(rand() * len(seq))]

        def below(n: int) -> int:
            return int(rand() * n)

        u = rand()
        country = COUNTRIES[-1]
        for c, edge in zip(COUNTRIES, _COUNTRY_CDF, strict=True):
            if u < edge:
                country = c
                break

        given, given_ascii = pick(country.given)
        family, family_ascii = pick(country.family)
        if country.feminine_given:
            if given in country.feminine_given:
                family += "а"
                family_ascii += "a"
            name = f"{given} {family}"
        elif country.family_first:
            name = family + given
        else:
            name = f"{given} {family}"

        org_a, org_a_ascii = pick(country.org_first)
        org_b, org_b_ascii = pick(country.org_second)
        organisation = country.org_pattern.format(a=org_a, b=org_b)
        domain = country.domain_pattern.format(a=org_a_ascii, b=org_b_ascii)
        local = f"{given_ascii}.{family_ascii}"
        if rand() < 0.25:
            local += str(1 + below(99))
        email = f"{local}@{domain}"

        _city, city_code, timezone, address = pick(country.places)
        location = address.format(n=1 + below(239))
        if rand() < 0.3:
            location += ", " + country.floor.format(n=1 + below(11))

        landline, mobile = self._phones[country.region]
        office = landline.prefix + f"{below(10**landline.digits):0{landline.digits}d}"
        phones = [{"label": "office", "number": office}]
        u = rand()
        if u < 0.6:
            number = mobile.prefix + f"{below(10**mobile.digits):0{mobile.digits}d}"
            if number != office:
                phones.append({"label": "mobile", "number": number})
        if u < 0.15:
            board = office[:-3] + "000"  # the organisation's main number
            if board != office:
                phones.append({"label": "switchboard", "number": board})

        org_code = (org_a_ascii[:2] + org_b_ascii[:1]).upper()
        subnet = _private_subnet(rand)
        devices = []
        n_devices = 1 + (rand() < 0.45) + (rand() < 0.2)
        host = 2 + below(200)
        for _ in range(n_devices):
            # Distinct items without rng.sample (slow): a stride coprime with the list length.
            first = below(_N_SOFTWARE)
            software = [
                COMMON_SOFTWARE[(first + _SOFTWARE_STRIDE * j) % _N_SOFTWARE]
                for j in range(1 + below(4))
            ]
            if rand() < 0.7:
                software.append(pick(country.software))
            host += 1 + below(8)
            ips = [subnet + str(host)]
            if rand() < 0.3:
                host += 1 + below(3)
                ips.append(subnet + str(host))
            devices.append(
                {
                    "id": _uuid4(rng.getrandbits(128)),
                    "computer_name": f"{org_code}-{city_code}-{pick(ROLES)}-{1 + below(9999):04d}",
                    "cpu": pick(CPUS),
                    "memory": pick(MEMORY),
                    "disk": pick(DISKS),
                    "network_card": pick(NICS),
                    "os": pick(SYSTEMS),
                    "software": software,
                    "ip_addresses": ips,
                }
            )

        return {
            "id": _uuid4(rng.getrandbits(128)),
            "version": 0,
            "name": name,
            "phones": phones,
            "email": email,
            "organisation": organisation,
            "location": location,
            "tier": "A" if rand() < 1 / 3 else "B",
            "account_manager": pick(ACCOUNT_MANAGERS),
            "language": country.language,
            "timezone": timezone,
            "department": pick(DEPARTMENTS),
            "devices": devices,
        }

    def sheets(self, count: int, *, start: int = 0) -> Iterator[dict[str, Any]]:
        for index in range(start, start + count):
            yield self.sheet(index)


def customer_sheets(
    count: int, *, seed: int = DEFAULT_SEED, start: int = 0
) -> Iterator[dict[str, Any]]:
    """Sheets ``start`` … ``start + count - 1`` of ``seed``, as ``parse_customer`` input."""
    return SheetGenerator(seed).sheets(count, start=start)


# --- checking -------------------------------------------------------------------------------


def verify(count: int, *, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Parse every sheet with the product's rules and check every phone number; raise if any
    sheet is refused, is not already canonical, or carries an invalid number."""
    from agentdesk.domain.customers import parse_customer

    numbers = languages = 0
    seen_ids: set[str] = set()
    for sheet in customer_sheets(count, seed=seed):
        parsed = parse_customer(sheet)
        if parsed.to_dict() != sheet:
            raise AssertionError(f"sheet {sheet['id']} is not in canonical form")
        for phone in sheet["phones"]:
            if not phonenumbers.is_valid_number(phonenumbers.parse(phone["number"], None)):
                raise AssertionError(f"invalid phone number {phone['number']}")
            numbers += 1
        if sheet["id"] in seen_ids:
            raise AssertionError(f"duplicate id {sheet['id']}")
        seen_ids.add(sheet["id"])
        languages += sheet["language"] != "en"
    return {"sheets": count, "phones_checked": numbers, "not_english": languages}


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__)
    parser.add_argument("--count", type=int, default=3, help="sheets to print (default 3)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--start", type=int, default=0, help="index of the first sheet")
    parser.add_argument("--verify", type=int, metavar="N", help="check N sheets instead")
    parser.add_argument("--rate", type=int, metavar="N", help="time generating N sheets")
    args = parser.parse_args(argv)
    if args.verify:
        print(json.dumps(verify(args.verify, seed=args.seed)))
        return 0
    if args.rate:
        generator = SheetGenerator(args.seed)
        started = time.perf_counter()
        for _ in generator.sheets(args.rate):
            pass
        elapsed = time.perf_counter() - started
        print(json.dumps({"sheets": args.rate, "per_second": round(args.rate / elapsed)}))
        return 0
    sheets = list(customer_sheets(args.count, seed=args.seed, start=args.start))
    document = {"format": "agentdesk.customers/1", "customers": sheets}
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(_main())
