"""Cached catalogue responses: each process keeps the serialised JSON of recent public catalogue
reads, valid while the catalogue version (one database row) stays the same.

Why it is correct across processes and machines:
- every transaction that changes what the catalogue shows marks its session (catalogue_changed),
  and its commit writes a fresh random version token in the same transaction: data and version
  become visible together;
- each process re-reads the token at most every VERSION_TTL_SECONDS (through its own connection)
  and forgets every entry when it changed. A change made elsewhere thus shows within about a
  second; a change made by this process shows on its next read (its commit forgets the token);
- an entry is stored under the token read in the same transaction as the data it was rendered
  from, and only while that token is still the process's current one: it never holds data older
  than the version it is filed under.

What an entry may hold is the caller's business (search.page_key, search.card_key): a key names
everything a response depends on, so two requests share an entry only when they would get the
same bytes.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col

from core.db import after_commit
from core.models import utcnow
from core.settings import get_settings
from marketplace.catalogue.models import CatalogueVersion
from marketplace.companies.models import Company, Site
from marketplace.companies.service import open_site_position

# How stale a process may be about changes made by other processes.
VERSION_TTL_SECONDS = 1.0
MAX_ENTRIES = 2_000
# A page of 20 cards is ~11 kB, of 100 ~55 kB: 2,000 of those would be 110 MB, hence a byte bound.
MAX_BYTES = 64 * 2**20

_CHANGED = "symbiose_catalogue_changed"


def _now() -> float:
    return time.monotonic()


def enabled() -> bool:
    return get_settings().catalogue_cache


# --- the version -------------------------------------------------------------------------------


def catalogue_changed(session: Session) -> None:
    """This transaction changes what the public catalogue shows: its commit bumps the version.

    Written at commit rather than now, so the version row (which every such transaction writes)
    stays locked for the commit only, not for the rest of a long import."""
    session.info[_CHANGED] = True


@sa.event.listens_for(Session, "before_commit")
def _bump_on_commit(session: Session) -> None:
    if not session.info.pop(_CHANGED, False):
        return
    values = {"id": 1, "version": uuid.uuid4().hex, "changed_at": utcnow()}
    table = CatalogueVersion.__table__  # type: ignore[attr-defined]
    # An upsert: the migration writes the row, but a database emptied by hand (tests) has none.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    statement = insert.values(values).on_conflict_do_update(
        index_elements=["id"],
        set_={"version": values["version"], "changed_at": values["changed_at"]},
    )
    session.execute(statement)
    after_commit(session, responses.forget_version)


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_change(session: Session, previous_transaction: SessionTransaction) -> None:
    # Only a rollback of the whole transaction undoes its changes, not a savepoint's.
    if previous_transaction.parent is None:
        session.info.pop(_CHANGED, None)


def read_version(connection: sa.Connection) -> str | None:
    """The current version token; None when the row is missing (then nothing is cached)."""
    statement = sa.select(col(CatalogueVersion.version)).where(col(CatalogueVersion.id) == 1)
    value = connection.execute(statement).scalar_one_or_none()
    return None if value is None else str(value)


# --- sites -------------------------------------------------------------------------------------

SitePlace = tuple[uuid.UUID, float, float]  # company, latitude, longitude
_MAX_SITES = 10_000
_sites_lock = threading.Lock()
_sites: dict[uuid.UUID, tuple[float, SitePlace | None]] = {}


def site_place(session: Session, site_id: uuid.UUID) -> SitePlace | None:
    """A site's company and exact position (unsealed with the company's key), read at most every
    VERSION_TTL_SECONDS: a banded request resolves its from_site every time, served from the
    cache or not, and on a hit that query would be a third of its database work. A site never
    changes company, so the check of who may use it stays exact; a moved site shows within about
    a second, as a catalogue change does."""
    now = _now()
    with _sites_lock:
        known = _sites.get(site_id)
    if known is not None and now - known[0] < VERSION_TTL_SECONDS:
        return known[1]
    columns = (
        col(Site.company_id),
        col(Site.position_ciphertext),
        col(Company.kek_id),
        col(Company.wrapped_key),
    )
    statement = sa.select(*columns).join(Company, col(Company.id) == col(Site.company_id))
    row = session.connection().execute(statement.where(col(Site.id) == site_id)).first()
    place = None
    if row is not None:
        position = open_site_position(
            row.company_id, row.kek_id, bytes(row.wrapped_key), bytes(row.position_ciphertext)
        )
        place = (row.company_id, position.latitude, position.longitude)
    with _sites_lock:
        if len(_sites) >= _MAX_SITES:
            _sites.clear()
        _sites[site_id] = (now, place)
    return place


# --- the responses -----------------------------------------------------------------------------


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    entries: int = 0
    bytes: int = 0


class ResponseCache:
    """A bounded LRU of response bodies, all of one catalogue version; thread-safe."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._version: str | None = None
        self._checked_at = -math.inf
        self._stats = CacheStats()

    def current_version(self, engine: sa.Engine) -> str | None:
        """The version this process serves, re-read when older than VERSION_TTL_SECONDS."""
        now = _now()
        with self._lock:
            if now - self._checked_at < VERSION_TTL_SECONDS:
                return self._version
            # One thread re-reads; the others go on with the version they know meanwhile.
            self._checked_at = now
        with engine.connect() as connection:
            version = read_version(connection)
        with self._lock:
            if version != self._version:
                self._entries.clear()
                self._bytes = 0
                self._version = version
            return version

    def forget_version(self) -> None:
        """Re-read the version on the next request (this process just changed it)."""
        with self._lock:
            self._checked_at = -math.inf

    def get(self, version: str | None, key: Hashable) -> bytes | None:
        """The body filed under ``key``, counted as a hit or a miss (no version: a miss)."""
        with self._lock:
            body = self._entries.get(key) if version and version == self._version else None
            if body is None:
                self._stats.misses += 1
                return None
            self._entries.move_to_end(key)
            self._stats.hits += 1
            return body

    def put(self, version: str, key: Hashable, body: bytes) -> None:
        with self._lock:
            # Rendered under another version than the one served: filed under neither.
            if version != self._version or len(body) > self.max_bytes:
                return
            previous = self._entries.pop(key, None)
            self._bytes -= len(previous) if previous is not None else 0
            self._entries[key] = body
            self._bytes += len(body)
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted)

    def clear(self) -> None:
        with _sites_lock:
            _sites.clear()
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._version = None
            self._checked_at = -math.inf
            self._stats = CacheStats()

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self._stats.hits, self._stats.misses, len(self._entries), self._bytes)


responses = ResponseCache()


def serve(session: Session, key: Hashable, render: Callable[[], bytes]) -> bytes:
    """The response body for ``key``: cached, or rendered (through ``session``) and kept."""
    if not enabled():
        return render()
    version = responses.current_version(session.get_bind())  # type: ignore[arg-type]
    body = responses.get(version, key)
    if body is not None:
        return body
    # Read in the transaction the rendering reads in: the data is at least this version.
    rendered_at = read_version(session.connection())
    body = render()
    if rendered_at is not None:
        responses.put(rendered_at, key, body)
    return body
