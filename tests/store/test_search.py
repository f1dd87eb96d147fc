"""Search over the local store's full-text index: exactly the matches of the domain's rule,
first by name, kept in step with every way a sheet is written, short terms and CJK names,
the "more match" signal, and a store written before the index existed."""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from agentdesk.domain.customers import matches, query_alternatives, search_text
from agentdesk.store import fulltext
from agentdesk.store.local import SCHEMA_VERSION, LocalStore, SearchResult
from agentdesk.wire import FieldErrorOut
from tests.store.test_local_store import answer, page, server_record

SheetFactory = Callable[..., dict[str, Any]]

FIRST_NAMES = [
    "Bjørn",
    "Åse",
    "Kari",
    "Ola",
    "Sigrid",
    "Анна",
    "Ольга",
    "Isla",
    "Giulia",
    "王",
    "李",
]
LAST_NAMES = ["Ødegård", "Sæther", "Løvås", "Nordmann", "Смирнова", "Jones", "Russo", "伟", "娜"]
SCHEMA_6_COLUMNS = [
    "id",
    "version",
    "name",
    "tier",
    "organisation",
    "search",
    "data",
    "server_data",
    "dirty",
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    opened = LocalStore(tmp_path / "desk" / "store.sqlite")
    yield opened
    opened.close()


def varied_sheet(rng: random.Random, customer_factory: SheetFactory) -> dict[str, Any]:
    """A sheet with a name, phone, computer and address drawn from a mix of scripts."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    name = first + last if first in ("王", "李") else f"{first} {last}"
    subscriber = f"22{rng.randrange(10**6):06d}"
    return customer_factory(
        name=name,
        email=f"u{rng.randrange(10**6)}@example.no",
        organisation=rng.choice(["Aker HF", "华信物流有限公司", "ООО Север", "Berg & Sønn AS", ""]),
        location=rng.choice(["Oslo", "北京市朝阳区", "", "Bergen 5003"]),
        phones=[{"label": "office", "number": f"+47 {subscriber}"}],
        devices=[
            {
                "computer_name": f"PC-{rng.randrange(10**4)}",
                "ip_addresses": [
                    f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                ],
            }
        ],
    )


def all_sheets(store: LocalStore) -> list[Any]:
    """Every sheet the store holds, read without the index."""
    return [store.customer(s.id) for s in store.search("", limit=100_000)]


def expected(store: LocalStore, query: str, sheets: list[Any] | None = None) -> list[str]:
    """The ids the domain's rule matches, first by name and id: what search must return."""
    found = [s for s in sheets or all_sheets(store) if matches(s, query)]
    return [s.id for s in sorted(found, key=lambda s: (s.name, s.id))]


def queries_from(store: LocalStore, rng: random.Random, count: int) -> list[str]:
    """Pieces of the sheets' own texts (1 to 8 characters, one or two terms, phone and IP
    prefixes as typed) and some text nobody has."""
    texts = [search_text(s) for s in all_sheets(store)]
    queries = []
    for _ in range(count):
        text = rng.choice(texts)
        words = [w for w in text.split() if w]
        word = rng.choice(words)
        size = rng.choice([1, 2, 3, 5, 8])
        start = rng.randrange(max(1, len(word) - size + 1))
        queries.append(word[start : start + size])
        if len(words) > 1:
            queries.append(f"{rng.choice(words)[:3]} {rng.choice(words)[: rng.choice([1, 2, 4])]}")
    numbers = [
        word
        for text in texts
        for word in text.split()
        if len(word) >= 8 and not word.strip("0123456789.")
    ]
    for _ in range(count // 4):  # pieces of phone numbers and IP addresses
        number = rng.choice(numbers)
        start = rng.randrange(3)
        queries.append(number[start : start + rng.choice([6, 7, 8])])
    queries += ["+47 2", "0047 22", "10.1", "10.12", "王", "王伟", "伟", "ø", "å", "zqxj", "q"]
    return queries


def assert_search_agrees(store: LocalStore, queries: list[str]) -> None:
    sheets = all_sheets(store)
    for query in queries:
        result = store.search(query, limit=1000)
        assert result.complete, query
        assert [s.id for s in result] == expected(store, query, sheets), query
        assert result.matches == len(result)


def assert_index_holds_the_texts(store: LocalStore) -> None:
    """Every trigram in the index lists exactly the sheets whose text holds it: nothing
    forgotten, nothing left over from an earlier text."""
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.terms USING "
            "fts5vocab(main, customer_search, row)"
        )
        indexed = dict(conn.exec_driver_sql("SELECT term, doc FROM temp.terms").all())
        texts = [text for (text,) in conn.exec_driver_sql("SELECT search FROM customers")]
    held: Counter[str] = Counter()
    for text in texts:
        held.update({(text + fulltext.PADDING)[i : i + 3] for i in range(len(text))})
    assert indexed == dict(held)


# --- the same matches as the rule ---------------------------------------------------------


def test_search_lists_exactly_what_the_rule_matches_through_every_kind_of_write(
    store: LocalStore, customer_factory: SheetFactory
) -> None:
    rng = random.Random(7)
    # Given 300 sheets pulled from the server (more than one indexing batch)
    pulled = [server_record(varied_sheet(rng, customer_factory), 1) for _ in range(300)]
    store.apply_changes(page(*pulled, cursor=300))
    # and then sheets created here, edited here, changed on the server and discarded
    created = [store.create_customer(varied_sheet(rng, customer_factory)) for _ in range(5)]
    for sheet in rng.sample(pulled, 20):
        store.save_edit(sheet["id"], {"name": f"{rng.choice(FIRST_NAMES)} Omdøpt"})
    newer = [
        server_record(sheet, 2, organisation=rng.choice(["Tromsø kommune", "上海分公司"]))
        for sheet in rng.sample(pulled, 20)
    ]
    store.apply_changes(page(*newer, cursor=320))
    rejected = store.create_customer(customer_factory(name="Ola Spøkelse"))
    [create] = [m for m in store.pending_mutations(100) if str(m.entity_id) == rejected.id]
    store.apply_push_results(
        [answer(create, "rejected", errors=[FieldErrorOut(field="name", message="no")])]
    )
    store.resolve(str(create.id), keep_mine=False)
    assert store.customer(rejected.id) is None
    assert all(store.customer(c.id) is not None for c in created)

    # When the agent types pieces of what the sheets hold
    queries = [*queries_from(store, rng, 60), "omdøpt", "tromsø kommune", "spøkelse"]

    # Then every search lists exactly the sheets the rule matches, in name order
    assert_search_agrees(store, queries)
    # and so it does after the changes waiting for the next batch are indexed, and after the
    # whole index is made again in bulk
    with store.engine.begin() as conn:
        fulltext.take_pending(conn)
    assert_index_holds_the_texts(store)
    assert_search_agrees(store, queries)
    with store.engine.begin() as conn:
        fulltext.rebuild(conn)
    assert_search_agrees(store, queries)


def test_an_edit_is_found_by_its_new_text_and_no_longer_by_its_old(
    store: LocalStore, customer_factory: SheetFactory
) -> None:
    # Given a sheet the agent renames
    sheet = store.create_customer(customer_factory(name="Bjørn Ødegård"))
    store.save_edit(sheet.id, {"name": "Åse Løvås"})

    # When either name is searched
    # Then only the new one finds it, also in other case
    assert [s.id for s in store.search("ÅSE LØV")] == [sheet.id]
    assert list(store.search("ødegård")) == []
    assert [s.name for s in store.search("øv")] == ["Åse Løvås"]


def test_a_replaced_row_is_found_by_its_new_text_only(
    store: LocalStore, customer_factory: SheetFactory
) -> None:
    # Given a sheet whose row a statement replaces whole (INSERT OR REPLACE)
    sheet = store.create_customer(customer_factory(name="Sigrid Sæther"))
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT OR REPLACE INTO customers "
            "(id, version, name, tier, organisation, search, data, server_data, dirty) "
            "SELECT id, version, 'Sigrid Berg', tier, organisation, "
            "replace(search, 'sæther', 'berg'), data, server_data, dirty "
            "FROM customers WHERE id = ?",
            (sheet.id,),
        )

    # When the old and the new name are searched
    # Then the sheet is found once, by its new text
    assert [s.name for s in store.search("sigrid")] == ["Sigrid Berg"]
    assert list(store.search("sæther")) == []


# --- short terms --------------------------------------------------------------------------


@pytest.mark.parametrize("indexed", [True, False], ids=["indexed", "waiting"])
@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("王", ["王伟"]),
        ("王伟", ["王伟"]),
        ("伟", ["王伟"]),
        ("i", ["Ola Li"]),
        ("li", ["Ola Li"]),
        ("a l", ["Ola Li"]),
        ("ø", ["Øy"]),
        ("øy", ["Øy"]),
        ("y", ["Øy"]),
    ],
)
def test_one_or_two_characters_are_found_anywhere_even_at_the_very_end(
    store: LocalStore, customer_factory: SheetFactory, query: str, names: list[str], indexed: bool
) -> None:
    # Given sheets whose whole search text is their short name: shorter than a trigram, or
    # with the searched characters last; in the index, or waiting for the next batch
    for name in ("王伟", "Ola Li", "Øy"):
        sheet = store.create_customer(
            customer_factory(
                name=name, email="", organisation="", location="", phones=[], devices=[]
            )
        )
        assert search_text(sheet) == name.casefold()
    if indexed:
        with store.engine.begin() as conn:
            fulltext.take_pending(conn)

    # When one or two characters are typed
    # Then the sheets holding them are found
    assert [s.name for s in store.search(query)] == names


@pytest.mark.parametrize(
    "query", ['"', '"ab', "ab)", "a*", "or", "and not", "^ab", "name:ab", "NEAR(a b)", "'"]
)
def test_what_fts_would_read_as_query_syntax_is_searched_as_text(
    store: LocalStore, customer_factory: SheetFactory, query: str
) -> None:
    # Given a sheet holding the typed characters literally, and one that does not
    holder = store.create_customer(customer_factory(organisation=f"x{query}x"))
    store.create_customer(customer_factory(organisation="Oslo kommune"))

    # When they are typed
    result = store.search(query)

    # Then they are matched as text, never as index syntax
    assert [s.id for s in result] == expected(store, query)
    assert holder.id in [s.id for s in result]


# --- many matches -------------------------------------------------------------------------


@pytest.fixture
def thirty(store: LocalStore, customer_factory: SheetFactory) -> list[dict[str, Any]]:
    """Thirty Kari sheets pulled in this order, in shuffled name order; the last three work
    at Zq Data."""
    rng = random.Random(3)
    suffixes = list(range(30))
    rng.shuffle(suffixes)
    sheets = [
        server_record(
            customer_factory(
                name=f"Kari {n:02d}", organisation="Zq Data AS" if i >= 27 else "Oslo kommune"
            ),
            1,
        )
        for i, n in enumerate(suffixes)
    ]
    for i, sheet in enumerate(sheets):
        store.apply_changes(page(sheet, cursor=i + 1))
    with store.engine.begin() as conn:
        fulltext.take_pending(conn)  # all in the index, none waiting for the next batch
    return sheets


def find(store: LocalStore, query: str, **bounds: int) -> fulltext.Found:
    with store.engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        with closing(dbapi.cursor()) as cursor:
            return fulltext.find(cursor, query_alternatives(query), **bounds)


def names_of(store: LocalStore, found: fulltext.Found) -> list[str]:
    with store.engine.connect() as conn:
        by_rowid = dict(conn.exec_driver_sql("SELECT rowid, name FROM customers").all())
    return [by_rowid[rowid] for rowid in found.rowids]


def test_up_to_the_exact_bound_every_match_is_ordered_by_name(
    store: LocalStore, thirty: list[dict[str, Any]]
) -> None:
    # When "kari" is searched, allowing 30 matches to be ordered
    found = find(store, "kari", limit=5, exact=30)

    # Then the first five of all thirty by name are listed, and all thirty counted
    assert (found.complete, found.matches) == (True, 30)
    assert names_of(store, found) == [f"Kari {n:02d}" for n in range(5)]


def test_beyond_the_exact_bound_the_first_found_are_listed_and_more_is_said(
    store: LocalStore, thirty: list[dict[str, Any]]
) -> None:
    # When "kari" is searched, allowing only 10 matches to be ordered
    found = find(store, "kari", limit=5, exact=10)

    # Then it says more match, and lists by name the first 5 of the first 10 stored
    assert (found.complete, found.matches) == (False, 10)
    first_stored = sorted(s["name"] for s in thirty[:10])
    assert names_of(store, found) == first_stored[:5]


def test_when_one_term_is_too_common_another_narrows_the_candidates(
    store: LocalStore, thirty: list[dict[str, Any]]
) -> None:
    # When "kari zq" is searched, checking at most 10 candidates: "kari" has 30
    found = find(store, "kari zq", limit=10, exact=100, candidates=10)

    # Then "zq" (three sheets) is used instead, and all its matches are found
    assert (found.complete, found.matches) == (True, 3)
    assert sorted(names_of(store, found)) == sorted(s["name"] for s in thirty[27:])
    # But when no term narrows them down, the search says it stopped early
    stopped = find(store, "kari k", limit=10, exact=100, candidates=10)
    assert (stopped.complete, stopped.matches) == (False, 10)


def test_the_store_says_whether_all_matches_were_considered(
    store: LocalStore, thirty: list[dict[str, Any]]
) -> None:
    # When the agent searches with the panel's limit
    found = store.search("kari", limit=100)
    listed = store.search("", limit=10)

    # Then every match is there and counted; no query lists the first by name, saying
    # there are more
    assert isinstance(found, SearchResult)
    assert (len(found), found.matches, found.complete) == (30, 30, True)
    assert [s.name for s in found][:2] == ["Kari 00", "Kari 01"]
    assert (len(listed), listed.complete) == (10, False)
    assert [s.name for s in listed] == [f"Kari {n:02d}" for n in range(10)]


# --- a store written before the index -----------------------------------------------------


def downgrade_to_schema_6(path: Path) -> None:
    """Make a store file what schema 6 wrote: no index, no summary columns."""
    with closing(sqlite3.connect(path)) as conn:
        names = conn.execute(
            "SELECT type, name FROM sqlite_master "
            "WHERE name LIKE 'customer_search%' OR name LIKE 'customers_search%'"
        ).fetchall()
        for kind, name in names:
            if kind == "trigger":
                conn.execute(f"DROP TRIGGER {name}")
        for name in ("customer_search_terms", "customer_search", "customer_search_pending"):
            conn.execute(f"DROP TABLE {name}")
        conn.execute("DROP TABLE customer_search_text")
        for column in ("phone", "email", "computers"):
            conn.execute(f"ALTER TABLE customers DROP COLUMN {column}")
        conn.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
        conn.commit()
        columns = [row[1] for row in conn.execute("PRAGMA table_info(customers)")]
        left = conn.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE '%search%' AND type != 'index'"
        ).fetchall()
    assert (columns, left) == (SCHEMA_6_COLUMNS, [])


def test_a_store_of_schema_6_gets_its_index_and_keeps_its_cursor(
    tmp_path: Path, customer_factory: SheetFactory
) -> None:
    # Given a schema-6 store holding two pulled sheets and a saved cursor
    path = tmp_path / "old.sqlite"
    old = LocalStore(path)
    wang = server_record(
        customer_factory(
            name="王伟",
            phones=[{"label": "office", "number": "+86 10 6552 9988"}],
            devices=[{"computer_name": "HX-PEK-FIN-01", "ip_addresses": ["10.132.2.15"]}],
        ),
        1,
    )
    bjorn = server_record(customer_factory(name="Bjørn Ødegård"), 1)
    old.apply_changes(page(wang, bjorn, cursor=2))
    old.close()
    downgrade_to_schema_6(path)

    # When this version opens it
    store = LocalStore(path)

    # Then it is at the new schema, without pulling everything again
    assert store.schema_version() == SCHEMA_VERSION == 7
    assert store.cursor() == 2
    # and finds its sheets by any term, short or long, with the summary of each
    [found] = store.search("10.132.2")
    assert (found.id, found.phone, found.computers) == (
        wang["id"],
        "+86 10 6552 9988",
        "HX-PEK-FIN-01",
    )
    assert [s.id for s in store.search("王")] == [wang["id"]]
    assert [s.id for s in store.search("BJØRN ø")] == [bjorn["id"]]
    # and keeps the index in step from then on
    store.save_edit(bjorn["id"], {"name": "Åse Løvås"})
    assert list(store.search("bjørn")) == []
    assert [s.id for s in store.search("åse")] == [bjorn["id"]]
    store.close()
