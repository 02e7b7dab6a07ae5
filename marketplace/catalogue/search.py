"""Catalogue search: filters on the public columns only, accent-insensitive word search, sorts by
relevance, date or distance band from one of the searcher's own sites, and keyset pagination.

Privacy rules applied here (PRODUCT.md, "What each party may see"):
- filters read only the generalised columns the card shows, so a filter never tells more than the
  card it returns;
- distances are computed server-side from one of the searcher's own sites, never from a point the
  client gives, and only their band ever leaves this module;
- "by distance" orders by band, then by date: ordering by exact distance would let a member compare
  any listing against one of its own (known) listings and narrow its position down far below the
  band's width;
- the cursor is encrypted and authenticated (AES-SIV) so a client can neither forge a position nor
  read the exact timestamps it holds; and deterministically, so it is the same bytes for the same
  page whoever asks and whenever: a cached page's cursor neither dates the search that filled the
  cache (a Fernet token carries its encryption time in clear) nor tells, by changing, that the
  page was rendered again after some listing of anyone's changed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from core import ratelimit
from core.inputs import NOT_BOOLEAN, Code, Label
from core.models import UTCDateTime
from core.settings import get_settings
from core.text import fold
from marketplace.accounts.service import Actor
from marketplace.catalogue.cache import serve, site_place
from marketplace.catalogue.cards import to_public
from marketplace.catalogue.errors import (
    CursorNotValid,
    NoSuchListing,
    NotYourSite,
    SignInForDistances,
)
from marketplace.catalogue.labels import departement_names, region_names
from marketplace.catalogue.models import Listing, is_public, public_where
from marketplace.catalogue.schemas import ListingPublic
from marketplace.catalogue.words import WordPlan, plan_words, title_score
from marketplace.flows.models import Direction, Kind, Regularity
from privacy.generalisation import (
    DISTANCE_BANDS,
    EARTH_RADIUS_KM,
    FAMILIES,
    FARTHEST_BAND,
    QUANTITY_BOUNDS,
    distance_band,
    haversine_km,
)

MAX_WORDS = 10
# A search's count stops there: "more than 1,000 listings" (CataloguePage.more).
MAX_COUNTED = 1_000
MIN_WORD_LENGTH = 2

# Band keys a URL can carry, in band order, with the label the card shows and the band's bounds.
BAND_KEYS: tuple[str, ...] = ("lt10", "10-30", "30-80", "80-200", "gt200")
BAND_LABELS: tuple[str, ...] = (*(label for _, label in DISTANCE_BANDS), FARTHEST_BAND)
_BAND_EDGES: tuple[float, ...] = (0.0, *(upper for upper, _ in DISTANCE_BANDS), math.inf)


class SortOrder(StrEnum):
    RELEVANCE = "relevance"
    DISTANCE = "distance"
    DATE = "date"


QuantityBand = Annotated[int, Field(ge=0, le=len(QUANTITY_BOUNDS)), NOT_BOOLEAN]


class CatalogueQuery(BaseModel):
    """What a catalogue search may ask. No field takes a position: distances start from one of the
    searcher's own sites (``from_site``)."""

    model_config = ConfigDict(extra="forbid")

    q: Label | None = Field(default=None, description="words of the listing")
    direction: Direction | None = None
    kind: Kind | None = None
    family: Code | None = None
    low_chapter: Code | None = Field(default=None, description='"10"')
    low_subchapter: Code | None = Field(default=None, description='"10 01" or "1001"')
    low_code: Code | None = Field(default=None, description='"10 01 02" or "100102"')
    hazardous: bool | None = None
    quantity_band: QuantityBand | None = None
    regularity: Regularity | None = None
    departement: str | None = Field(default=None, max_length=3)
    region: str | None = Field(default=None, max_length=3)
    from_site: uuid.UUID | None = Field(default=None, description="one of your own sites")
    distance_band: Code | None = Field(
        default=None, description="lt10, 10-30, 30-80, 80-200, gt200 (needs from_site)"
    )
    sort: SortOrder = SortOrder.RELEVANCE
    limit: Annotated[int, Field(ge=1, le=100), NOT_BOOLEAN] = 20
    cursor: str | None = Field(default=None, max_length=1000)

    @field_validator("q")
    @classmethod
    def _words(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if len(words_of(value)) > MAX_WORDS:
            raise ValueError(f"at most {MAX_WORDS} words")
        return value.strip()

    @field_validator("family")
    @classmethod
    def _family(cls, value: str | None) -> str | None:
        if value is not None and value not in FAMILIES:
            raise ValueError("unknown family; one of " + ", ".join(FAMILIES))
        return value

    @field_validator("low_chapter", "low_subchapter", "low_code")
    @classmethod
    def _low(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        digits = {"low_chapter": 2, "low_subchapter": 4, "low_code": 6}[str(info.field_name)]
        compact = value.replace(" ", "")
        if len(compact) != digits or not compact.isdigit():
            raise ValueError(f"expected a List of Waste code of {digits} digits")
        return compact

    @field_validator("departement")
    @classmethod
    def _departement(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in departement_names():
            raise ValueError("unknown département code")
        return value.upper() if value is not None else None

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and value not in region_names():
            raise ValueError("unknown région code")
        return value

    @field_validator("distance_band")
    @classmethod
    def _band(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if value in BAND_LABELS:
            value = BAND_KEYS[BAND_LABELS.index(value)]
        if value not in BAND_KEYS:
            raise ValueError("one of " + ", ".join(BAND_KEYS))
        if info.data.get("from_site") is None:
            raise ValueError("a distance band needs from_site, one of your own sites")
        return value

    @field_validator("sort")
    @classmethod
    def _sort(cls, value: SortOrder, info: ValidationInfo) -> SortOrder:
        if value is SortOrder.DISTANCE and info.data.get("from_site") is None:
            raise ValueError("sorting by distance needs from_site, one of your own sites")
        return value


class CataloguePage(BaseModel):
    items: list[ListingPublic]
    next_cursor: str | None = None
    total: int = Field(
        description="how many public listings match, as many as the pages show one after the "
        f"other; counted up to {MAX_COUNTED:,} (then `more` is true)"
    )
    more: bool = Field(description=f"more than {MAX_COUNTED:,} listings match")


def words_of(q: str | None) -> list[str]:
    """The distinct folded words of a query, in order; words too short to mean anything dropped."""
    words: list[str] = []
    for word in fold(q or "").split():
        if len(word) >= MIN_WORD_LENGTH and word not in words:
            words.append(word)
    return words


# --- distances ---------------------------------------------------------------------------------

_KM_PER_DEGREE = math.pi / 180 * EARTH_RADIUS_KM
_HALF_RADIAN = math.pi / 360
# The SQL approximation below is within 0.015 % of the great-circle distance up to 250 km; band
# filters widen their bounds by this much, and the exact band is then checked in Python.
_APPROX_MARGIN = 0.001


@dataclass(frozen=True)
class Origin:
    """One of the searcher's own sites, the only point a distance may start from."""

    latitude: float
    longitude: float

    def squared_km(self) -> ColumnElement[float]:
        """Squared distance to a listing, in km², in plain arithmetic (SQLite has no cosine).

        Equirectangular, with the cosine of the mid-latitude expanded to second order around the
        site's latitude: cos(φ0 + δ) ≈ cos φ0 − δ·sin φ0 − δ²/2·cos φ0 with δ = (φ − φ0)/2.
        """
        phi0 = math.radians(self.latitude)
        cos0, sin0 = math.cos(phi0), math.sin(phi0)
        dlat = col(Listing.latitude) - self.latitude
        delta = dlat * _HALF_RADIAN
        cos_mid = cos0 - delta * sin0 - delta * delta * (cos0 / 2)
        north = dlat * _KM_PER_DEGREE
        east = (col(Listing.longitude) - self.longitude) * _KM_PER_DEGREE * cos_mid
        return north * north + east * east

    def within(self, band: int) -> ColumnElement[bool]:
        """A superset of the listings in ``band`` (bounds widened by the approximation's error),
        with a latitude box first: a plain range that an index on latitude serves."""
        lower, upper = _BAND_EDGES[band], _BAND_EDGES[band + 1]
        squared = self.squared_km()
        conditions: list[ColumnElement[bool]] = []
        if lower > 0:
            conditions.append(squared >= (lower * (1 - _APPROX_MARGIN)) ** 2)
        if math.isfinite(upper):
            reach = upper * (1 + _APPROX_MARGIN)
            conditions.append(
                col(Listing.latitude).between(
                    self.latitude - reach / _KM_PER_DEGREE, self.latitude + reach / _KM_PER_DEGREE
                )
            )
            conditions.append(squared < reach * reach)
        return sa.and_(*conditions)

    def near_edges(self, band: int) -> ColumnElement[bool]:
        """The listings within the approximation's error of ``band``'s bounds: the only ones
        within(band) may hold although they lie outside the band."""
        lower, upper = _BAND_EDGES[band], _BAND_EDGES[band + 1]
        squared = self.squared_km()
        near: list[ColumnElement[bool]] = []
        if lower > 0:
            near.append(squared < (lower * (1 + _APPROX_MARGIN)) ** 2)
        if math.isfinite(upper):
            near.append(squared >= (upper * (1 - _APPROX_MARGIN)) ** 2)
        # Both bounds lie within the farthest one's latitudes: a range the latitude index serves.
        reach = (upper if math.isfinite(upper) else lower) * (1 + _APPROX_MARGIN) / _KM_PER_DEGREE
        box = col(Listing.latitude).between(self.latitude - reach, self.latitude + reach)
        return sa.and_(box, sa.or_(*near))

    def band_of(self, listing: Listing) -> int:
        return self.band_at(listing.latitude, listing.longitude)

    def band_at(self, latitude: float, longitude: float) -> int:
        """The band the card shows, from the great-circle distance."""
        km = haversine_km(self.latitude, self.longitude, latitude, longitude)
        return BAND_LABELS.index(distance_band(km))


def origin_of(session: Session, actor: Actor | None, site_id: uuid.UUID | None) -> Origin | None:
    if site_id is None:
        return None
    if actor is None:
        raise SignInForDistances(field="from_site")
    place = site_place(session, site_id)
    # The facilitator sees every position anyway; a member only its own company's sites.
    if place is None or not actor.may_access_company(place[0]):
        raise NotYourSite(field="from_site")
    return Origin(place[1], place[2])


# --- cursor ------------------------------------------------------------------------------------


@lru_cache
def _cipher(secret_key: str) -> AESSIV:
    key = hmac.new(secret_key.encode(), b"symbiose/catalogue-cursor", hashlib.sha512).digest()
    return AESSIV(key)  # 64 bytes: AES-256-SIV


def _digest(query: CatalogueQuery) -> str:
    """Identifies the search a cursor belongs to (every field but the page size and position)."""
    fields = query.model_dump(mode="json", exclude={"cursor", "limit"})
    raw = json.dumps(fields, sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


SortKey = tuple[int | None, datetime, uuid.UUID]  # (score or band, published_at, id)


def encode_cursor(query: CatalogueQuery, sort: SortOrder, key: SortKey) -> str:
    lead, published_at, listing_id = key
    payload = {
        "s": sort.value,
        "d": _digest(query),
        "k": [lead, published_at.isoformat(), listing_id.hex],
    }
    sealed = _cipher(get_settings().secret_key).encrypt(json.dumps(payload).encode(), None)
    return base64.urlsafe_b64encode(sealed).decode()


def decode_cursor(query: CatalogueQuery, sort: SortOrder) -> SortKey | None:
    if query.cursor is None:
        return None
    invalid = CursorNotValid(field="cursor")
    try:
        sealed = base64.urlsafe_b64decode(query.cursor)
        raw = _cipher(get_settings().secret_key).decrypt(sealed, None)
        payload = json.loads(raw)
        lead, published_at, listing_id = payload["k"]
        key: SortKey = (
            None if lead is None else int(lead),
            datetime.fromisoformat(published_at),
            uuid.UUID(hex=listing_id),
        )
    except (InvalidTag, ValueError, KeyError, TypeError):
        raise invalid from None
    if payload.get("s") != sort.value or payload.get("d") != _digest(query):
        raise invalid
    if (sort is SortOrder.DATE) != (key[0] is None) or key[1].tzinfo is None:
        raise invalid
    return key


# --- search ------------------------------------------------------------------------------------


def equality_filters(query: CatalogueQuery) -> list[ColumnElement[bool]]:
    """Equality filters, each on a column the card shows (never on an internal one)."""
    pairs: list[tuple[Any, Any]] = [
        (Listing.direction, query.direction.value if query.direction else None),
        (Listing.kind, query.kind.value if query.kind else None),
        (Listing.family, query.family),
        (Listing.low_chapter, query.low_chapter),
        (Listing.low_subchapter, query.low_subchapter),
        (Listing.public_low_code, query.low_code),
        (Listing.hazardous, query.hazardous),
        (Listing.quantity_band, query.quantity_band),
        (Listing.regularity, query.regularity.value if query.regularity else None),
        (Listing.public_departement, query.departement),
        (Listing.region_code, query.region),
    ]
    return [col(column) == value for column, value in pairs if value is not None]


# --- pages -------------------------------------------------------------------------------------


def _after(lead: ColumnElement[int] | None, key: SortKey) -> ColumnElement[bool]:
    """Rows strictly after ``key`` in the order (lead desc, published_at desc, id desc)."""
    lead_value, published_at, listing_id = key
    tail = sa.tuple_(col(Listing.published_at), col(Listing.id)) < sa.tuple_(
        sa.literal(published_at, UTCDateTime()), sa.literal(listing_id, sa.Uuid())
    )
    if lead is None or lead_value is None:
        return tail
    return sa.or_(lead < lead_value, sa.and_(lead == lead_value, tail))


def _rank(sort: SortOrder, lead: int) -> int:
    """Where a lead value falls in the result order, smallest first: the highest score comes
    first, the nearest band comes first."""
    return -lead if sort is SortOrder.RELEVANCE else lead


@dataclass(frozen=True)
class _Segment:
    """A stretch of the result order read with one query: the whole result; for the distance sort
    one band (bands come one after the other; inside a band, newest first); for relevance over
    common words, the listings whose title holds a word, then the others."""

    condition: ColumnElement[bool] | None  # on top of the search's own conditions
    lead: ColumnElement[int] | None = None  # computed, orders before the date: the score
    fixed_lead: int | None = None  # the lead all its rows share, when not computed
    band: int | None = None  # the exact band its rows must be in (checked in Python), if any
    ranks: tuple[int, int] = (0, 0)  # the _rank of its first and of its last rows' leads


@dataclass(frozen=True)
class _Hit:
    listing_id: uuid.UUID
    key: SortKey


def _both(first: ColumnElement[bool] | None, second: ColumnElement[bool]) -> ColumnElement[bool]:
    return second if first is None else sa.and_(first, second)


def _segments(
    sort: SortOrder,
    origin: Origin | None,
    band: int | None,
    words: Sequence[str],
    plan: WordPlan,
) -> list[_Segment]:
    if sort is SortOrder.DISTANCE:
        assert origin is not None  # the query's validation requires from_site
        bands = [band] if band is not None else range(len(BAND_KEYS))
        return [_Segment(origin.within(b), fixed_lead=b, band=b, ranks=(b, b)) for b in bands]
    within = origin.within(band) if origin is not None and band is not None else None
    if sort is SortOrder.DATE:
        return [_Segment(within, band=band)]
    if plan.levels is None:
        score, top = title_score(words), -len(words)
        return [_Segment(within, lead=score, band=band, ranks=(top, 0))]
    best = len(plan.levels) - 1
    return [
        _Segment(_both(within, level), fixed_lead=best - i, band=band, ranks=(i - best, i - best))
        for i, level in enumerate(plan.levels)
    ]


def _start(
    sort: SortOrder, segment: _Segment, position: SortKey | None
) -> tuple[bool, SortKey | None]:
    """Whether a segment is read after ``position`` (not when the previous pages went through it)
    and from where: after the position, or from its top when it lies wholly after it."""
    if position is None or position[0] is None:
        return True, position
    rank = _rank(sort, position[0])
    if rank > segment.ranks[1]:
        return False, None
    return True, position if rank >= segment.ranks[0] else None


def _read_segment(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    segment: _Segment,
    origin: Origin | None,
    position: SortKey | None,
    wanted: int,
) -> list[_Hit]:
    """Up to ``wanted`` rows of one segment after ``position``, as ids and sort keys only: the
    database sorts narrow rows, and only the page's listings are loaded in full afterwards."""
    lead_column = (sa.null() if segment.lead is None else segment.lead).label("lead")
    order: list[sa.UnaryExpression[Any]] = [] if segment.lead is None else [segment.lead.desc()]
    order += [col(Listing.published_at).desc(), col(Listing.id).desc()]
    where = list(conditions)
    if segment.condition is not None:
        where.append(segment.condition)
    hits: list[_Hit] = []
    while len(hits) < wanted:
        asked = wanted - len(hits)
        statement = sa.select(
            col(Listing.id),
            col(Listing.published_at),
            lead_column,
            col(Listing.latitude),
            col(Listing.longitude),
        ).where(*where)
        if position is not None:
            statement = statement.where(_after(segment.lead, position))
        # Core rows (five columns) through the session's own connection and transaction.
        batch = session.connection().execute(statement.order_by(*order).limit(asked)).all()
        for listing_id, published_at, score, latitude, longitude in batch:
            # Publishing sets the date (service._change, publish_flows): keyset pages rely on it.
            assert published_at is not None
            lead = score if segment.lead is not None else segment.fixed_lead
            position = (lead, published_at, listing_id)
            # The SQL band test is a slightly wider approximation: keep the exact band only.
            if segment.band is None or (
                origin is not None and origin.band_at(latitude, longitude) == segment.band
            ):
                hits.append(_Hit(listing_id, position))
        if len(batch) < asked:
            break
    return hits


def _count(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    origin: Origin | None,
    band: int | None,
) -> tuple[int, bool]:
    """How many listings meet ``conditions`` and lie in ``band`` from ``origin`` (any band
    without one), exactly the rows the pages return, counted up to MAX_COUNTED: (the count, at
    most MAX_COUNTED; whether more match). Reading at most MAX_COUNTED + 1 index entries keeps it
    as cheap as a page where a common search matches most of the catalogue. The SQL band test is
    a slightly wider approximation: the rows near the band's bounds are measured exactly, in
    Python, and the others counted in SQL."""
    connection = session.connection()

    def up_to(most: int, *extra: ColumnElement[bool]) -> int:
        found = sa.select(col(Listing.id)).where(*conditions, *extra).limit(most).subquery()
        return int(connection.execute(sa.select(sa.func.count()).select_from(found)).scalar_one())

    wanted = MAX_COUNTED + 1
    if origin is None or band is None:
        total = up_to(wanted)
    else:
        # Away from the bounds first: when they alone pass the bound, no row is measured.
        near = origin.near_edges(band)
        total = up_to(wanted, origin.within(band), sa.not_(near))
        if total < wanted:
            edges = sa.select(col(Listing.latitude), col(Listing.longitude)).where(
                *conditions, origin.within(band), near
            )
            rows = connection.execute(edges)
            total += sum(1 for lat, lon in rows if origin.band_at(lat, lon) == band)
    return min(total, MAX_COUNTED), total > MAX_COUNTED


def search(session: Session, actor: Actor | None, query: CatalogueQuery) -> CataloguePage:
    """One page of published, publicly visible listings matching ``query``.

    Anonymous visitors get the public cards; signed-in members also get, with ``from_site``, the
    distance band of each listing from that site.
    """
    origin = origin_of(session, actor, query.from_site)
    words = words_of(query.q)
    sort = query.sort
    if sort is SortOrder.RELEVANCE and not words:
        sort = SortOrder.DATE
    position = decode_cursor(query, sort)
    band = BAND_KEYS.index(query.distance_band) if query.distance_band else None

    filters = equality_filters(query)
    plan = plan_words(session, words, sort is SortOrder.RELEVANCE, filtered=bool(filters))
    conditions = public_where() + filters + plan.conditions
    wanted = query.limit + 1  # one more tells whether a next page exists
    hits: list[_Hit] = []
    for segment in _segments(sort, origin, band, words, plan):
        read, start = _start(sort, segment, position)
        if not read:
            continue
        hits += _read_segment(session, conditions, segment, origin, start, wanted - len(hits))
        if len(hits) >= wanted:
            break

    page = hits[: query.limit]
    next_cursor = encode_cursor(query, sort, page[-1].key) if len(hits) > query.limit else None
    # The visibility test again: a listing withdrawn since the first query is left out.
    chosen = [hit.listing_id for hit in page]
    loaded = {
        listing.id: listing
        for listing in session.exec(
            select(Listing).where(*public_where(), col(Listing.id).in_(chosen))
        )
    }
    items = [
        to_public(loaded[listing_id], _band_label(origin, loaded[listing_id], actor))
        for listing_id in chosen
        if listing_id in loaded
    ]
    # Counted as the pages read them, so it tells nothing the pages would not: public listings,
    # these filters and words, this band. A first page that holds them all has counted them.
    if position is None and len(hits) <= query.limit:
        total, more = len(hits), False
    else:
        total, more = _count(session, public_where() + filters + plan.matches, origin, band)
    return CataloguePage(items=items, next_cursor=next_cursor, total=total, more=more)


def matching(
    session: Session, query: CatalogueQuery, origin: Origin | None, listing_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of ``listing_ids`` search(query) would return, on any page (for saved-search alerts).

    ``origin`` is the site ``query.from_site`` resolves to for its owner (see origin_of); without
    it, a query with a distance band matches nothing."""
    band = BAND_KEYS.index(query.distance_band) if query.distance_band else None
    if band is not None and origin is None:
        return set()
    conditions = public_where() + equality_filters(query) + [col(Listing.id).in_(list(listing_ids))]
    conditions += [col(Listing.search_text).like(f"%{word}%") for word in words_of(query.q)]
    if origin is not None and band is not None:
        conditions.append(origin.within(band))
    statement = sa.select(col(Listing.id), col(Listing.latitude), col(Listing.longitude))
    rows = session.connection().execute(statement.where(*conditions)).all()
    return {
        listing_id
        for listing_id, latitude, longitude in rows
        if band is None or (origin is not None and origin.band_at(latitude, longitude) == band)
    }


# --- response cache keys (cache.py) ------------------------------------------------------------

CacheKey = tuple[str, str, str]


def _view(origin: Origin | None) -> str:
    # A response differs by viewer through its distance bands only, and those come from
    # ``origin``: the public view (anonymous visitors, members without from_site) is one entry;
    # a banded view is filed under the site's position, which only a viewer allowed to use that
    # site obtains (the caller runs origin_of on every request, served from the cache or not).
    return "public" if origin is None else f"from:{origin.latitude!r}:{origin.longitude!r}"


def page_key(query: CatalogueQuery, origin: Origin | None) -> CacheKey:
    """Everything search() output depends on. The query as validated (codes compacted, labels
    turned into keys), cursor included, since a page's next cursor belongs to its exact query."""
    return ("page", query.model_dump_json(), _view(origin))


def card_key(listing_id: uuid.UUID, origin: Origin | None) -> CacheKey:
    return ("card", listing_id.hex, _view(origin))


def _band_label(origin: Origin | None, listing: Listing, actor: Actor | None) -> str | None:
    if origin is None or actor is None:
        return None
    return BAND_LABELS[origin.band_at(listing.latitude, listing.longitude)]


def get_public(
    session: Session,
    actor: Actor | None,
    listing_id: uuid.UUID,
    from_site: uuid.UUID | None = None,
) -> ListingPublic:
    """One listing as the catalogue shows it; "not found" unless it is published and public."""
    origin = origin_of(session, actor, from_site)
    listing = session.get(Listing, listing_id)
    if listing is None or not is_public(listing):
        raise NoSuchListing()
    return to_public(listing, _band_label(origin, listing, actor))


def count_read(actor: Actor | None, address: str | None) -> None:
    """Count one catalogue read against the client's per-minute budget, shared by the API and
    the pages: a company's accounts and tokens share one budget (more accounts buy no more
    reads), staff count per user, visitors per address (the client's, api/proxies.py)."""
    if actor is not None and actor.company_id is not None:
        client = f"company:{actor.company_id}"
    elif actor is not None:
        client = f"user:{actor.user_id}"
    else:
        client = f"ip:{address or 'unknown'}"
    ratelimit.hit(f"catalogue:{client}", get_settings().search_rate_per_minute)


# --- through the response cache (the pages; the API serves the cached bytes themselves) --------


def search_page(session: Session, actor: Actor | None, query: CatalogueQuery) -> CataloguePage:
    """search() through the response cache: a page and the API share the entry of a query."""
    origin = origin_of(session, actor, query.from_site)
    body = serve(
        session,
        page_key(query, origin),
        lambda: search(session, actor, query).model_dump_json().encode(),
    )
    return CataloguePage.model_validate_json(body)


def public_card(
    session: Session, actor: Actor | None, listing_id: uuid.UUID, from_site: uuid.UUID | None
) -> ListingPublic:
    """get_public() through the response cache; "not found" is never cached."""
    origin = origin_of(session, actor, from_site)
    body = serve(
        session,
        card_key(listing_id, origin),
        lambda: get_public(session, actor, listing_id, from_site).model_dump_json().encode(),
    )
    return ListingPublic.model_validate_json(body)
