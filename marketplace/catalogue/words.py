"""Word search: which listings hold a query's words, and how a search reads them (see below).

A word matches when it is a substring of the folded ``search_text``: `search_text LIKE '%word%'`.
PostgreSQL serves that LIKE from its trigram GIN index. SQLite has no such index: there, words of
three characters or more are looked up in two FTS5 trigram indexes (migration 0002) holding the
catalogue's listings only: listings_fts (search_text) and listings_fts_titles (the folded title).
A trigram phrase finds exactly the rows LIKE finds; shorter words stay a LIKE.

Which way a search reads its rows is chosen by how many listings hold the words, counted in the
index up to COMMON_MATCHES (a few ms); results and order are the same either way:
- few (up to FEW_MATCHES), or up to COMMON_MATCHES when filters come with the words (how many
  matches pass them is unknown): read those rows and sort them;
- more, up to COMMON_MATCHES: walk down the date index (which covers every filtered column,
  migration 0003) and test each entry's rowid against the matches gathered from the index, so no
  table row is read for a listing the page does not keep. Reading and sorting 10,000 rows would
  cost three times as much;
- more still: the word is common, and the same walk tests it with LIKE, meeting a page of
  matches within its first rows, where gathering every match would take tens of ms.
A relevance sort over more than a few matches reads level by level (every word in the title,
fewer, none: WordPlan.levels), each level down the dates. On SQLite a level tests rowids against
the title index's matches, and the top level is read from that index when it holds few listings;
on PostgreSQL a level tests the folded title, which a trigram index and statistics of its own let
the planner weigh (migration 0003).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from marketplace.catalogue.models import PUBLIC_SQLITE, Listing

INDEXED_WORD_LENGTH = 3
FEW_MATCHES = 1_500
COMMON_MATCHES = 10_000

_ROWID: ColumnElement[int] = sa.literal_column("listings.rowid")
# The same rowid, which SQLite may not look rows up by (a unary +): it must walk an index instead.
_WALKED_ROWID: ColumnElement[int] = sa.literal_column("+listings.rowid")


def title_text() -> ColumnElement[str]:
    """The folded title: it opens ``search_text`` (see service._search_text), so its first
    len(title) characters stand for it. Folding keeps the length but for ligatures and runs of
    punctuation, an edge that can only nudge a rank. Written as PostgreSQL's title index and
    statistics have it (migration 0003), the 1 a literal, so the planner recognises it."""
    one: ColumnElement[int] = sa.literal_column("1")
    return sa.func.substr(col(Listing.search_text), one, sa.func.length(col(Listing.title)))


def title_score(words: Sequence[str]) -> ColumnElement[int]:
    """How many query words the title holds: the relevance score."""
    score: ColumnElement[int] = sa.literal(0)
    for word in words:
        score = score + sa.case((title_text().like(f"%{word}%"), 1), else_=0)
    return score


def _contains(word: str) -> ColumnElement[bool]:
    return col(Listing.search_text).like(f"%{word}%")


def _phrases(words: Sequence[str], operator: str) -> str:
    # Folded words hold letters and digits only; quoting keeps any other character literal anyway.
    return f" {operator} ".join('"' + word.replace('"', '""') + '"' for word in words)


def _indexed(table: str, expression: str) -> sa.Select[Any]:
    """The rowids of the listings an FTS5 index finds for ``expression``."""
    index = sa.table(table, sa.column("rowid"))
    return sa.select(index.c.rowid).where(
        sa.literal_column(table).op("MATCH")(sa.literal(expression))
    )


def _count_up_to(session: Session, table: str, expression: str, most: int) -> int:
    found = _indexed(table, expression).limit(most + 1).subquery()
    statement = sa.select(sa.func.count()).select_from(found)
    return int(session.connection().execute(statement).scalar_one())


@dataclass(frozen=True)
class WordPlan:
    """How a search finds its words: conditions every row meets and, for a relevance sort, either
    nothing (few matches: score and sort them all) or one condition per score, best first:
    ``levels[i]`` holds the rows whose title has len(levels) - 1 - i of the words. Each level is
    then read down the dates, so a common word never makes a search score every match."""

    conditions: list[ColumnElement[bool]]
    # Conditions the matching rows, and they alone, meet, whatever the levels: what a count reads.
    matches: list[ColumnElement[bool]]
    levels: list[ColumnElement[bool]] | None = None


def _score_levels(words: Sequence[str]) -> list[ColumnElement[bool]] | None:
    """Levels that test the title itself (PostgreSQL, or a short word on SQLite), each holding its
    own word conditions (None would mean one query scoring every match: the tests' reference
    plan). The top level asks for every word in the title, which implies them in
    the text (the title opens it), so the planner, which takes conditions as independent, is not
    misled into expecting few rows where every titled match qualifies."""
    in_title = [title_text().like(f"%{word}%") for word in words]
    in_text = [_contains(word) for word in words]
    score: ColumnElement[int] = sa.literal(0)
    for test in in_title:
        score = score + sa.case((test, 1), else_=0)
    middle = [
        sa.and_(*in_text, sa.or_(*in_title), score == n) for n in range(len(words) - 1, 0, -1)
    ]
    return [sa.and_(*in_title), *middle, sa.and_(*in_text, sa.not_(sa.or_(*in_title)))]


def _in_titles(session: Session, words: Sequence[str]) -> list[ColumnElement[bool]]:
    """SQLite's levels, from the title index: each level tests rowids against the titles holding
    a word, from the date index's entries; the top level (every word in the title) is read from
    the title index when it holds few listings, so that a rare top level is not walked through."""
    member = [
        _WALKED_ROWID.in_(_indexed("listings_fts_titles", _phrases([w], "AND"))) for w in words
    ]
    every = _phrases(words, "AND")
    if _count_up_to(session, "listings_fts_titles", every, FEW_MATCHES) <= FEW_MATCHES:
        top: ColumnElement[bool] = _ROWID.in_(_indexed("listings_fts_titles", every))
    else:
        top = sa.and_(*member)
    if len(words) == 1:
        return [top, sa.not_(member[0])]
    score: ColumnElement[int] = sa.literal(0)
    for test in member:
        score = score + sa.case((test, 1), else_=0)
    middle = [score == n for n in range(len(words) - 1, 0, -1)]
    return [top, *middle, sa.not_(sa.or_(*member))]


def plan_words(
    session: Session, words: Sequence[str], relevance: bool, filtered: bool = False
) -> WordPlan:
    likes = [_contains(word) for word in words]
    indexed = [word for word in words if len(word) >= INDEXED_WORD_LENGTH]
    sqlite = session.get_bind().dialect.name == "sqlite"
    if not indexed or not sqlite:
        # PostgreSQL: the planner weighs the trigram indexes against the date walk, level by level.
        levels = _score_levels(words) if relevance else None
        return WordPlan(likes if levels is None else [], likes, levels)
    every = _phrases(indexed, "AND")
    short = [_contains(word) for word in words if word not in indexed]
    matches = _count_up_to(session, "listings_fts", every, COMMON_MATCHES)
    read = [_ROWID.in_(_indexed("listings_fts", every)), *short]
    if matches <= FEW_MATCHES or (filtered and matches <= COMMON_MATCHES):
        # With filters, how many matches pass them is unknown: reading them all costs at most
        # COMMON_MATCHES rows, where walking to a page that too few of them fill could cost the
        # whole date index, once per relevance level.
        return WordPlan(read, read)
    # Walked: the matches' rowids are gathered once, and each entry of the date index is tested
    # against them without reading its table row. Beyond COMMON_MATCHES, gathering them costs
    # more than testing the few rows a walk meets before its page fills.
    walked = [_WALKED_ROWID.in_(_indexed("listings_fts", every)), *short]
    found = walked if matches <= COMMON_MATCHES else likes
    # A count reads the matches from the index when it has gathered them, not down the dates.
    counted = read if matches <= COMMON_MATCHES else likes
    if not relevance:
        return WordPlan(found, counted)
    if short:  # no index sees a short word: its levels test the title itself
        levels = _score_levels(words)
        return WordPlan(found if levels is None else [], counted, levels)
    return WordPlan(found, counted, _in_titles(session, words))


def rebuild_word_indexes(connection: sa.Connection) -> None:
    """Empty and refill SQLite's word indexes from the listings (after a VACUUM or a rebuild of the
    listings table, which may renumber the rowids they are keyed by; see migration 0002)."""
    if connection.dialect.name != "sqlite":
        return
    for statement in (
        "INSERT INTO listings_fts(listings_fts) VALUES ('delete-all')",
        "INSERT INTO listings_fts_titles(listings_fts_titles) VALUES ('delete-all')",
        # The public rows (catalogue/models.py's rule as SQLite writes it): a constant, no input.
        "INSERT INTO listings_fts(rowid, search_text) SELECT rowid, search_text FROM listings "  # noqa: S608
        f"WHERE {PUBLIC_SQLITE}",
        "INSERT INTO listings_fts_titles(rowid, title_text) "  # noqa: S608
        "SELECT rowid, substr(search_text, 1, length(title)) FROM listings "
        f"WHERE {PUBLIC_SQLITE}",
    ):
        connection.execute(sa.text(statement))
