"""Word search: which listings hold a query's words, and how a search reads them (see below).

A word matches when it is a substring of the folded ``search_text``: `search_text LIKE '%word%'`.
PostgreSQL serves that LIKE from its trigram GIN index. SQLite has no such index: there, words of
three characters or more are looked up in two FTS5 trigram indexes (migration 0002) holding the
catalogue's listings only: listings_fts (search_text) and listings_fts_titles (the folded title).
A trigram phrase finds exactly the rows LIKE finds; shorter words stay a LIKE.

Which way a search reads its rows is chosen by how many listings hold the words, counted in the
index up to COMMON_MATCHES (a millisecond or two); results and order are the same either way:
- few matches: read them from the index and sort them (at most ~10 ms for COMMON_MATCHES rows);
- many: the word is common, and a walk down the date index meets a page of matches within its
  first rows, where reading and sorting every match would take tens of ms (a word in 75 % of the
  listings costs ~50 ms either as a LIKE over the table or as a join of its matches).
Relevance (words in the title) over common words cannot walk the dates as such: it reads the
listings whose title holds a word from the title index, scores and sorts those (few), then walks
the dates for the rest, all of which score 0. A single word in more than COMMON_MATCHES titles
splits the same way, both parts walked by date (every title holding it scores 1). Only several
words common in titles, or a short word (which no index sees), score every match, as PostgreSQL
always does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from marketplace.catalogue.models import Listing

INDEXED_WORD_LENGTH = 3
COMMON_MATCHES = 10_000

_ROWID: ColumnElement[int] = sa.literal_column("listings.rowid")


def title_text() -> ColumnElement[str]:
    """The folded title: it opens ``search_text`` (see service._search_text), so its first
    len(title) characters stand for it. Folding keeps the length but for ligatures and runs of
    punctuation, an edge that can only nudge a rank."""
    return sa.func.substr(col(Listing.search_text), 1, sa.func.length(col(Listing.title)))


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
    """How a search finds its words: conditions every row meets, and for a relevance sort over
    common words, which listings have a word in their title (all others score 0), and whether
    those are few (read from the title index and sorted by score) or many (one word, so they all
    score 1: a walk down the dates meets them quickly)."""

    conditions: list[ColumnElement[bool]]
    titled: ColumnElement[bool] | None = None
    many_titled: bool = False


def plan_words(session: Session, words: Sequence[str], relevance: bool) -> WordPlan:
    likes = [_contains(word) for word in words]
    indexed = [word for word in words if len(word) >= INDEXED_WORD_LENGTH]
    if not indexed or session.get_bind().dialect.name != "sqlite":
        return WordPlan(likes)
    every = _phrases(indexed, "AND")
    short = [_contains(word) for word in words if word not in indexed]
    if _count_up_to(session, "listings_fts", every, COMMON_MATCHES) <= COMMON_MATCHES:
        return WordPlan([_ROWID.in_(_indexed("listings_fts", every)), *short])
    if not relevance or short:
        return WordPlan(likes)
    any_word = _phrases(indexed, "OR")
    if _count_up_to(session, "listings_fts_titles", any_word, COMMON_MATCHES) <= COMMON_MATCHES:
        return WordPlan(likes, titled=_ROWID.in_(_indexed("listings_fts_titles", any_word)))
    if len(words) == 1:
        return WordPlan(likes, titled=title_text().like(f"%{words[0]}%"), many_titled=True)
    return WordPlan(likes)  # several words, common in titles too: score every match


def rebuild_word_indexes(connection: sa.Connection) -> None:
    """Empty and refill SQLite's word indexes from the listings (after a VACUUM or a rebuild of the
    listings table, which may renumber the rowids they are keyed by; see migration 0002)."""
    if connection.dialect.name != "sqlite":
        return
    for statement in (
        "INSERT INTO listings_fts(listings_fts) VALUES ('delete-all')",
        "INSERT INTO listings_fts_titles(listings_fts_titles) VALUES ('delete-all')",
        "INSERT INTO listings_fts(rowid, search_text) SELECT rowid, search_text FROM listings "
        "WHERE status = 'published' AND brokered_only = 0",
        "INSERT INTO listings_fts_titles(rowid, title_text) "
        "SELECT rowid, substr(search_text, 1, length(title)) FROM listings "
        "WHERE status = 'published' AND brokered_only = 0",
    ):
        connection.execute(sa.text(statement))
