"""The local store's full-text index of customer sheets, and how a typed query uses it.

Every sheet's search text (:func:`agentdesk.domain.customers.search_text`) is copied, with
its name and id, into ``customer_search_text`` (keyed by the rowid of its ``customers`` row),
and that copy is indexed by ``customer_search``, an FTS5 table over it (external content)
that cuts the text into trigrams, every run of three characters. Triggers keep both in step
with ``customers`` in the same transaction as the row itself, whatever statement writes it.

A query matches a sheet when every term, in one of its forms
(:func:`~agentdesk.domain.customers.query_alternatives`), is a substring of the sheet's search
text: the rule of :func:`~agentdesk.domain.customers.matches`. The index only narrows down the
sheets to check; each candidate is then checked against that rule on its copy of the text. So
the index never decides what matches, only how fast it is found:

* A term of three characters or more is looked up by a few of its trigrams, the rarest ones
  (estimated by probing the index).
* A shorter term (``王``, ``bj``, ``10``) has no trigram of its own. Every place it occurs
  starts a trigram of the text, so the sheets holding it are those listed under a trigram
  that begins with it, read from the index's term list (``customer_search_terms``). The text
  is kept with two spaces after it so that its last two characters start trigrams too.

The index takes in changed sheets a batch at a time (:data:`BATCH`): FTS5 writes out what it
holds at every statement of a transaction, so a sheet indexed by the statement that stores it
would cost a write of the index per sheet. Until a batch is full, the changed sheets wait in
``customer_search_pending``, and every search checks them directly.

Up to :data:`EXACT` matches, a search orders all of them by name; see :func:`find` for what
it returns when more match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection

#: Up to this many matches, a search orders every match by name and lists the first ones.
EXACT: Final = 500
#: How many candidates from the index a search checks at most.
CANDIDATES: Final = 1000
#: Index entries read to estimate how common a trigram is.
_PROBE: Final = 32
#: Trigrams of one term probed at most, spread over the term.
_PROBED: Final = 16
#: Trigrams of one term looked up together: the rarest ones.
_LOOKED_UP: Final = 3
#: Estimates of how common trigrams are, kept at most.
_RARITIES_KEPT: Final = 20_000
#: Kept after the search text, so every character of the text starts a trigram. A query
#: term never holds a space, so the padding never matches anything itself.
PADDING: Final = "  "
#: The greatest code point: a short term followed by it bounds every trigram it begins.
_LAST: Final = "\U0010ffff"
#: Changed sheets are indexed in batches of this many.
BATCH: Final = 256

DDL: Final = (
    # What the index is made from and what a candidate is checked and ordered by: a few
    # hundred bytes a sheet, where a customers row holds the whole sheet twice.
    """CREATE TABLE IF NOT EXISTS customer_search_text (
        id INTEGER PRIMARY KEY,  -- the rowid of the sheet's customers row
        search TEXT NOT NULL,  -- its search text, then PADDING
        name TEXT NOT NULL,
        customer_id TEXT NOT NULL
    )""",
    # Rows of customer_search_text changed since the index last took them in, each with the
    # text the index holds for it (NULL: none), which is what the index must forget.
    """CREATE TABLE IF NOT EXISTS customer_search_pending (
        id INTEGER PRIMARY KEY,
        search TEXT
    )""",
    "CREATE VIRTUAL TABLE IF NOT EXISTS customer_search USING fts5(search, "
    "content = 'customer_search_text', content_rowid = 'id', "
    "tokenize = 'trigram case_sensitive 1', detail = none, columnsize = 0)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS customer_search_terms "
    "USING fts5vocab(customer_search, instance)",
)
#: The index takes in the pending rows: forgets what it held of them, indexes what they hold.
_TAKE_PENDING: Final = (
    "INSERT INTO customer_search (customer_search, rowid, search) "
    "SELECT 'delete', id, search FROM customer_search_pending WHERE search IS NOT NULL",
    "INSERT INTO customer_search (rowid, search) SELECT p.id, t.search "
    "FROM customer_search_pending AS p JOIN customer_search_text AS t ON t.id = p.id "
    "ORDER BY p.id",
    "DELETE FROM customer_search_pending",
)
_COPY: Final = (
    "INSERT INTO customer_search_text (id, search, name, customer_id) "
    f"VALUES (new.rowid, coalesce(new.search, '') || '{PADDING}', new.name, new.id)"
)
# No conflict clause in these: a statement's OR REPLACE or OR IGNORE would override it.
TRIGGERS: Final = (
    # customers -> customer_search_text
    f"""CREATE TRIGGER IF NOT EXISTS customers_search_insert AFTER INSERT ON customers BEGIN
        DELETE FROM customer_search_text WHERE id = new.rowid;
        {_COPY};
    END""",
    """CREATE TRIGGER IF NOT EXISTS customers_search_delete AFTER DELETE ON customers BEGIN
        DELETE FROM customer_search_text WHERE id = old.rowid;
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS customers_search_update
    AFTER UPDATE OF search, name, id ON customers
    WHEN new.search IS NOT old.search OR new.name IS NOT old.name OR new.id IS NOT old.id
    BEGIN
        DELETE FROM customer_search_text WHERE id = old.rowid;
        {_COPY};
    END""",
    # customer_search_text -> customer_search_pending: the first change of a row since the
    # index took it in notes what the index holds of it.
    """CREATE TRIGGER IF NOT EXISTS customer_search_text_insert
    AFTER INSERT ON customer_search_text BEGIN
        INSERT INTO customer_search_pending (id, search) SELECT new.id, NULL
        WHERE NOT EXISTS (SELECT 1 FROM customer_search_pending WHERE id = new.id);
    END""",
    """CREATE TRIGGER IF NOT EXISTS customer_search_text_delete
    AFTER DELETE ON customer_search_text BEGIN
        INSERT INTO customer_search_pending (id, search) SELECT old.id, old.search
        WHERE NOT EXISTS (SELECT 1 FROM customer_search_pending WHERE id = old.id);
    END""",
    """CREATE TRIGGER IF NOT EXISTS customer_search_text_update
    AFTER UPDATE ON customer_search_text BEGIN
        INSERT INTO customer_search_pending (id, search) SELECT old.id, old.search
        WHERE NOT EXISTS (SELECT 1 FROM customer_search_pending WHERE id = old.id);
        INSERT INTO customer_search_pending (id, search) SELECT new.id, NULL
        WHERE NOT EXISTS (SELECT 1 FROM customer_search_pending WHERE id = new.id);
    END""",
    # customer_search_pending -> customer_search, a batch at a time.
    f"""CREATE TRIGGER IF NOT EXISTS customer_search_pending_batch
    AFTER INSERT ON customer_search_pending
    WHEN (SELECT count(*) FROM customer_search_pending) >= {BATCH}
    BEGIN
        {"; ".join(_TAKE_PENDING)};
    END""",
)
_TEXT_TRIGGERS: Final = (
    "customer_search_text_insert",
    "customer_search_text_delete",
    "customer_search_text_update",
)


def create(conn: Connection) -> None:
    """Create the index and its triggers where they are missing. An index created here is
    filled from the sheets already stored (a store written before it existed)."""
    missing = (
        conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'customer_search_text'"
        ).first()
        is None
    )
    for statement in DDL:
        conn.exec_driver_sql(statement)
    if missing:
        rebuild(conn)
    for statement in TRIGGERS:
        conn.exec_driver_sql(statement)


def take_pending(conn: Connection) -> None:
    """Index the sheets changed since the last batch now."""
    for statement in _TAKE_PENDING:
        conn.exec_driver_sql(statement)


def rebuild(conn: Connection) -> None:
    """Make the index again from the rows of ``customers``, in bulk."""
    # Row by row, the text table's triggers would note every row as pending.
    for name in _TEXT_TRIGGERS:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    conn.exec_driver_sql("DELETE FROM customer_search_pending")
    conn.exec_driver_sql("DELETE FROM customer_search_text")
    conn.exec_driver_sql(
        "INSERT INTO customer_search_text (id, search, name, customer_id) "
        f"SELECT rowid, coalesce(search, '') || '{PADDING}', name, id FROM customers"
    )
    conn.exec_driver_sql("INSERT INTO customer_search (customer_search) VALUES ('rebuild')")
    # One segment: the fastest lookups, after an index made in bulk.
    conn.exec_driver_sql("INSERT INTO customer_search (customer_search) VALUES ('optimize')")
    for statement in TRIGGERS:
        conn.exec_driver_sql(statement)


_MATCH: Final = (
    "SELECT rowid AS candidate FROM customer_search WHERE customer_search MATCH ? "
    "ORDER BY rowid LIMIT ?"
)


@dataclass(frozen=True)
class Found:
    """What a search found: the rowids of the customers to list, in name order."""

    rowids: list[int]
    #: How many customers match: exact when ``complete``, otherwise how many were found
    #: before the search stopped (at least that many match).
    matches: int
    #: Every match was considered, so ``rowids`` are the first matches by name (and id).
    complete: bool


@dataclass(frozen=True)
class _Source:
    """Where a search takes its candidates from: SQL listing rowids (``candidate``) in index
    order, up to a limit given as its last parameter."""

    sql: str
    params: tuple[Any, ...]


_PENDING: Final = _Source(
    "SELECT id AS candidate FROM customer_search_pending ORDER BY id LIMIT ?", ()
)


def find(
    cursor: Any,
    terms: list[tuple[str, ...]],
    *,
    limit: int,
    exact: int = EXACT,
    candidates: int = CANDIDATES,
    rarities: dict[str, tuple[int, int]] | None = None,
) -> Found:
    """The first ``limit`` matches of ``terms`` by name and id, read with a DB-API cursor.

    Candidates come from the index in its order, from the most selective source at hand,
    and are checked one by one. When at most ``exact`` customers match, the result lists the
    first of all matches by name. The search stops early when more than ``exact`` match, or
    when ``candidates`` were checked and no other source has fewer: it then lists the first
    by name of the matches found so far, the first in the order of the index, and says it
    is not complete, so the agent can type more. ``rarities`` keeps estimates of how common
    trigrams are from one search to the next.
    """
    if limit <= 0 or not terms:
        return Found([], 0, True)
    exact = max(exact, limit)
    long_terms = [forms for forms in terms if min(map(len, forms)) >= 3]
    # Two characters narrow down more than one.
    short_terms = sorted(
        (forms for forms in terms if min(map(len, forms)) < 3),
        key=lambda forms: -min(map(len, forms)),
    )
    sources = []
    if long_terms:
        expression = " AND ".join(
            _expression(cursor, forms, {} if rarities is None else rarities) for forms in long_terms
        )
        sources.append(_Source(_MATCH, (expression,)))
    sources += [_starting(forms) for forms in short_terms]
    # Sheets changed since the index last took them in: checked whatever the index says.
    pending, _ = _check(cursor, _PENDING, terms, exact + 1, None)
    first: list[tuple[int, str, str]] | None = None
    for n, source in enumerate(sources):
        if n > 0 and _count(cursor, source, candidates + 1) > candidates:
            continue  # no fewer than the first: keep what it found
        hits, exhausted = _check(cursor, source, terms, exact + 1, candidates)
        held = {hit[0] for hit in hits}
        hits += [hit for hit in pending if hit[0] not in held]
        if exhausted or len(hits) > exact:
            return _found(hits, limit, exact, complete=exhausted and len(hits) <= exact)
        if first is None:
            first = hits
    assert first is not None
    return _found(first, limit, exact, complete=False)


def _found(hits: list[tuple[int, str, str]], limit: int, exact: int, *, complete: bool) -> Found:
    kept = sorted(hits[:exact], key=lambda hit: (hit[1], hit[2]))
    return Found([hit[0] for hit in kept[:limit]], len(kept), complete)


def _check(
    cursor: Any,
    source: _Source,
    terms: list[tuple[str, ...]],
    most: int,
    candidates: int | None,
) -> tuple[list[tuple[int, str, str]], bool]:
    """(rowid, name, id) of the first ``most`` candidates of ``source`` that hold every term,
    in index order, checking at most ``candidates`` (None: all); and whether the source ran
    out first."""
    condition = " AND ".join(
        "(" + " OR ".join("instr(t.search, ?) > 0" for _ in forms) + ")" for forms in terms
    )
    rows = cursor.execute(
        f"SELECT t.id, t.name, t.customer_id, {condition} FROM ({source.sql}) AS c "
        "CROSS JOIN customer_search_text AS t ON t.id = c.candidate",
        (
            *(form for forms in terms for form in forms),
            *source.params,
            -1 if candidates is None else candidates + 1,  # LIMIT -1: no limit
        ),
    )
    hits: list[tuple[int, str, str]] = []
    for checked, (rowid, name, customer_id, holds) in enumerate(rows, 1):
        if candidates is not None and checked > candidates:
            return hits, False
        if holds:
            hits.append((rowid, name, customer_id))
            if len(hits) >= most:
                return hits, False
    return hits, True


def _count(cursor: Any, source: _Source, most: int) -> int:
    """How many candidates ``source`` has, counting up to ``most``."""
    (count,) = cursor.execute(
        f"SELECT count(*) FROM ({source.sql})", (*source.params, most)
    ).fetchone()
    return int(count)


def _expression(cursor: Any, forms: tuple[str, ...], rarities: dict[str, tuple[int, int]]) -> str:
    """An FTS5 query for sheets holding the rarest trigrams of one of ``forms``."""
    lookups = (" AND ".join(map(_phrase, _rarest(cursor, form, rarities))) for form in forms)
    return "(" + " OR ".join(f"({lookup})" for lookup in lookups) + ")"


def _rarest(cursor: Any, form: str, rarities: dict[str, tuple[int, int]]) -> list[str]:
    """The trigrams of ``form`` to look it up by: the rarest few.

    How common a trigram is, is estimated from where its 32nd sheet comes in the index
    (sheets are spread evenly over rowids), or counted exactly when fewer hold it; the
    estimates are kept in ``rarities`` for the next keystrokes. An estimate only decides which
    trigrams are looked up, never what matches, so an old one does no harm.
    """
    at: dict[str, int] = {}  # each trigram, where it first starts in the form
    for i in range(len(form) - 2):
        at.setdefault(form[i : i + 3], i)
    grams = list(at)
    if len(grams) > _PROBED:
        step = (len(grams) - 1) / (_PROBED - 1)
        grams = list(dict.fromkeys(grams[round(i * step)] for i in range(_PROBED)))
    if len(grams) == 1:
        return grams
    ranked: list[tuple[tuple[int, int], str]] = []
    for gram in grams:
        rarity = rarities.get(gram)
        if rarity is None:
            rowids = cursor.execute(_MATCH, (_phrase(gram), _PROBE)).fetchall()
            rarity = (0, len(rowids)) if len(rowids) < _PROBE else (1, -rowids[-1][0])
            if len(rarities) >= _RARITIES_KEPT:
                rarities.clear()
            rarities[gram] = rarity
        if rarity == (0, 0):
            return [gram]  # no sheet holds it: nothing matches
        ranked.append((rarity, gram))
    ranked.sort()
    if ranked[0][0][0] == 0:
        return [ranked[0][1]]  # a handful of sheets: check them all
    # Overlapping trigrams mostly come together ("rus", "uss", "sso"), so one narrows down
    # little more than the other: take the rarest that do not overlap.
    chosen: list[str] = []
    for apart in (3, 2):  # then overlapping by one character, if the form is short
        for _, gram in ranked:
            if len(chosen) < _LOOKED_UP and all(abs(at[gram] - at[c]) >= apart for c in chosen):
                chosen.append(gram)
    return chosen


def _starting(forms: tuple[str, ...]) -> _Source:
    """Sheets holding a trigram that begins with one of ``forms`` (shorter than three
    characters), in the order of the index's term list."""
    ranges = [(form, form + _LAST * (3 - len(form))) for form in forms]
    if len(ranges) == 1:
        return _Source(
            "SELECT DISTINCT doc AS candidate FROM customer_search_terms "
            "WHERE term >= ? AND term <= ? LIMIT ?",
            ranges[0],
        )
    union = " UNION ".join(
        "SELECT doc AS candidate FROM customer_search_terms WHERE term >= ? AND term <= ?"
        for _ in ranges
    )
    return _Source(f"{union} LIMIT ?", tuple(bound for pair in ranges for bound in pair))


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'
