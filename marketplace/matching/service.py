"""The synergy engine's use cases: compute matches, and read them as each party may.

Two readings of one engine (matching/facts.py):
- the facilitator's matches are computed on the flows as they are and stored (`matches`), after
  commit whenever a flow is created or changed, or for the whole territory in chunks;
- a member's matches for one of its flows are scored on the spot against the public catalogue's
  cards (what it may see), from its own site; a counterpart the catalogue does not show appears
  only once the facilitator has suggested it, as "the facilitator has a possible counterpart",
  with no detail. A stored match is never read for a member: its exact distance and quantity
  would be an oracle. For the same reason a suggestion, once made, outlives the match: were it
  dropped when a recomputation no longer finds the pair, a member moving or editing its own
  flow would read, in the flag's flip, what the exact facts of the other side are.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from core.events import handles
from core.models import UTCDateTime, new_id, utcnow
from core.reference.sectors import SectorRefused, parse_sector, sector_label
from core.worker import enqueue
from marketplace.accounts.service import Actor
from marketplace.catalogue.cache import site_place
from marketplace.catalogue.cards import to_public
from marketplace.catalogue.models import Listing, public_where
from marketplace.catalogue.schemas import ListingPublic
from marketplace.companies.events import SITE_MOVED
from marketplace.companies.models import Company, Site, SiteMove
from marketplace.flows.events import FLOW_CHANGED, FLOW_CREATED
from marketplace.flows.models import Direction, Flow, FlowStatus
from marketplace.flows.service import get_flow
from marketplace.matching import plan
from marketplace.matching.candidates import offer_archetypes
from marketplace.matching.compatibility import material_compatibility
from marketplace.matching.economics import E4, PerUnit, estimate, eur_per_unit, in_e4, per_unit
from marketplace.matching.engine import (
    Side,
    best_for_offers,
    best_for_request,
    offers_side,
    requests_side,
)
from marketplace.matching.errors import NoSuchMatch, NotAnOffer
from marketplace.matching.facts import Facts, card_facts, cell_point, flow_facts, own_flow_facts
from marketplace.matching.knowledge import archetypes, max_distance_km
from marketplace.matching.models import Match, MatchedFlow
from marketplace.matching.plan import PlanPair
from marketplace.matching.scoring import (
    Scored,
    band_middle_km,
    criteria_with_scores,
    criterion_scores,
    material_side,
    score_pair,
)
from privacy.generalisation import distance_band, haversine_km

# Matches kept per flow, best first: enough for a facilitator's shortlist and the plan.
KEEP_PER_FLOW = 25
# Flows per task when flows change (an edit, an import): small, so a member's edit is matched
# soon even behind an import.
CHUNK = 500
# Offers per task of a whole-territory recompute: each task pays a transaction and a look at the
# requests' fingerprint, so fewer, larger chunks; 5,000 offers still store in a few seconds.
TERRITORY_CHUNK = 5_000
# How long a worker may reuse the requests it loaded, even when their fingerprint is unchanged:
# it bounds what the fingerprint cannot see (an edit committed after a later one, see
# _requests_fingerprint).
SIDE_MAX_AGE_S = 600.0


# --- the territory as facts -------------------------------------------------------------------


def _facts_query(
    kind: str | None = None, direction: str | None = None, active: bool = True
) -> sa.Select:
    query = (
        select(Flow, Site.h3_cell, Company.nace)
        .join(Site, col(Site.id) == col(Flow.site_id))
        .join(Company, col(Company.id) == col(Flow.company_id))
    )
    if active:
        query = query.where(Flow.status == FlowStatus.ACTIVE)
    if kind is not None:
        query = query.where(Flow.kind == kind)
    if direction is not None:
        query = query.where(Flow.direction == direction)
    return query


# Loads of the territory's facts in this process, by (kind, direction): what the requests' cache
# saves can be counted (tests, benchmarks).
territory_loads: Counter[tuple[str | None, str | None]] = Counter()


def territory_facts(
    session: Session, kind: str | None = None, direction: str | None = None
) -> list[Facts]:
    """Every active flow (of a kind and direction) as exact facts."""
    territory_loads[(kind, direction)] += 1
    rows = session.exec(_facts_query(kind, direction)).all()  # type: ignore[call-overload]
    return [flow_facts(flow, cell, nace) for flow, cell, nace in rows]


def _best(scored: list[Scored]) -> list[Scored]:
    """The pairs among the KEEP_PER_FLOW best of their offer or of their request, best first:
    every offer keeps its best requests, and every request its best offers."""
    # UUIDs compare as their hex strings do (a fixed width), without writing each one out.
    scored.sort(key=lambda s: (-s.score, s.offer.ref, s.request.ref))
    ranks: dict[uuid.UUID, int] = {}
    kept = []
    for pair in scored:
        offer_rank = ranks[pair.offer.ref] = ranks.get(pair.offer.ref, 0) + 1
        request_rank = ranks[pair.request.ref] = ranks.get(pair.request.ref, 0) + 1
        if min(offer_rank, request_rank) <= KEEP_PER_FLOW:
            kept.append(pair)
    return kept


# --- computing and storing the facilitator's matches -------------------------------------------


def compute_pairs(session: Session, flow_ids: Sequence[uuid.UUID]) -> list[Scored]:
    """The scored pairs involving the active flows among ``flow_ids``, against the territory."""
    mine = [
        f
        for start in range(0, len(flow_ids), CHUNK)
        for f in _facts_of(session, flow_ids[start : start + CHUNK])
    ]
    pairs: dict[tuple[uuid.UUID, uuid.UUID], Scored] = {}
    for kind in sorted({f.kind for f in mine}):
        offers = [f for f in mine if f.kind == kind and f.direction == Direction.OFFER]
        requests = [f for f in mine if f.kind == kind and f.direction == Direction.REQUEST]
        if offers:
            with _requests_side(session, kind) as side:
                for scored in best_for_offers(offers, side):
                    pairs[(scored.offer.ref, scored.request.ref)] = scored
        if requests:
            territory = offers_side(territory_facts(session, kind, Direction.OFFER))
            for request in requests:
                for scored in best_for_request(request, territory):
                    pairs[(scored.offer.ref, scored.request.ref)] = scored
    return list(pairs.values())


# --- the requests of a kind, kept between a worker's chunks --------------------------------------
#
# A whole-territory recompute is one task per chunk of offers, and each matches its offers against
# every request of their kind: loading them (and opening their sealed labels) costs more than the
# matching itself. A worker process keeps the last requests' Side of each kind and reuses it while
# the database says the requests are as they were (one entry per kind: the territory's requests
# are held once, as the in-memory benchmark's worker does).


@dataclass
class _CachedSide:
    fingerprint: tuple[object, ...]
    side: Side
    loaded_at: float  # time.monotonic()


_sides: dict[str, _CachedSide] = {}
# The in-process pool runs two tasks at once in threads, and a Side keeps scratch arrays and
# memoised scores while it is read: one task reads the cached sides at a time.
_sides_lock = threading.Lock()


def _requests_fingerprint(session: Session, kind: str) -> tuple[object, ...]:
    """What changes whenever a request of ``kind`` would be read differently, read in the task's
    own transaction: the active requests' count and latest edit (a creation, an edit, a
    withdrawal, a flow moved to another site, its company's sector changed all set updated_at; a
    deletion lowers the count), and the site moves' count and latest (a move changes a site's
    cell but no flow's row).

    Not seen: an edit committed after a later edit was, whose updated_at is then not the
    latest; bounded by SIDE_MAX_AGE_S, and the edited flow's own task matches it on the fresh
    row."""
    requests = session.exec(
        select(func.count(), func.max(Flow.updated_at)).where(
            Flow.status == FlowStatus.ACTIVE,
            Flow.kind == kind,
            Flow.direction == Direction.REQUEST,
        )
    ).one()
    moves = session.exec(select(func.count(), func.max(SiteMove.moved_at))).one()
    return (*requests, *moves)


@contextmanager
def _requests_side(session: Session, kind: str) -> Iterator[Side]:
    """The Side of every active request of ``kind``, loaded again only when its fingerprint
    changed (or it has grown old); held by one task at a time."""
    fingerprint = _requests_fingerprint(session, kind)
    with _sides_lock:
        cached = _sides.get(kind)
        if (
            cached is None
            or cached.fingerprint != fingerprint
            or time.monotonic() - cached.loaded_at > SIDE_MAX_AGE_S
        ):
            side = requests_side(territory_facts(session, kind, Direction.REQUEST))
            cached = _sides[kind] = _CachedSide(fingerprint, side, time.monotonic())
        yield cached.side


def forget_requests_sides() -> None:
    """Drop the requests kept between chunks (tests, benchmarks that start from cold)."""
    with _sides_lock:
        _sides.clear()


def _facts_of(session: Session, flow_ids: Sequence[uuid.UUID], active: bool = True) -> list[Facts]:
    """The flows among ``flow_ids`` as exact facts: the active ones, or all (``active=False``)."""
    query = _facts_query(active=active).where(col(Flow.id).in_(list(flow_ids)))
    rows = session.exec(query).all()  # type: ignore[call-overload]
    return [flow_facts(flow, cell, nace) for flow, cell, nace in rows]


def store_matches(session: Session, flow_ids: Sequence[uuid.UUID], pairs: list[Scored]) -> int:
    """Replace the stored matches of ``flow_ids`` with ``pairs`` (keeping a facilitator's
    suggestion on a pair that is still a match).

    Written with statements over many rows rather than one ORM object per match: a chunk of a
    whole-territory recompute stores tens of thousands of matches, and one query or update per
    row was most of its time (bench/results/matching_db.md). A pair already stored is updated in
    place (its id and suggestion stay), so a facilitator's page read before a recompute still
    names the same matches."""
    ids = list(flow_ids)
    session.flush()  # the statements below see the session's own changes, as the ORM's would
    old: dict[tuple[uuid.UUID, uuid.UUID], tuple[uuid.UUID, datetime | None, float]] = {}
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        rows = session.execute(
            sa.select(
                col(Match.id),
                col(Match.offer_flow_id),
                col(Match.request_flow_id),
                col(Match.suggested_at),
                col(Match.score),
            ).where(col(Match.offer_flow_id).in_(part) | col(Match.request_flow_id).in_(part))
        )
        for match_id, offer_id, request_id, suggested_at, score in rows:
            old[(offer_id, request_id)] = (match_id, suggested_at, score)
    now = utcnow()
    kept = _best(pairs)
    fresh = {(pair.offer.ref, pair.request.ref) for pair in kept}
    _upsert_matches(session, kept, now)
    stale = [row for key, row in old.items() if key not in fresh]
    forgotten = [match for match, suggested, _ in stale if suggested is None]
    # No longer a match (an edit, a move, a withdrawal on either side), but its members were
    # told: the suggestion stays, out of the ranking and the plan. Taking it back would tell a
    # member where, or what, a counterpart it cannot see is.
    unmatched = [match for match, suggested, score in stale if suggested is not None and score]
    table = Match.__table__  # type: ignore[attr-defined]
    for start in range(0, len(forgotten), CHUNK):
        session.execute(sa.delete(table).where(table.c.id.in_(forgotten[start : start + CHUNK])))
    for start in range(0, len(unmatched), CHUNK):
        session.execute(
            sa.update(table)
            .where(table.c.id.in_(unmatched[start : start + CHUNK]))
            .values(score=0.0, computed_at=now, **dict.fromkeys(_NUMBERS))
        )
    _mark_matched(session, ids, now)
    # Matches and marks this session holds were written behind its back: read afresh.
    for row in list(session.identity_map.values()):
        if isinstance(row, Match | MatchedFlow):
            session.expire(row)
    return len(kept)


def _upsert(session: Session, table: sa.Table) -> Any:
    """An INSERT that can say ON CONFLICT on this session's database."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


# What a stored match holds besides its pair, in one upsert's columns (models.Match).
_NUMBERS = (
    "material_score",
    "distance_score",
    "quantity_score",
    "timing_score",
    "quality_score",
    "precision_score",
    "eur_giver_per_unit_e4",
    "eur_taker_per_unit_e4",
    "co2e_kg_per_unit_e4",
    "investment_eur",
)
_COLUMNS: tuple[str, ...] = (
    "id",
    "offer_flow_id",
    "request_flow_id",
    "score",
    "distance_km",
    "archetype_id",
)
_COLUMNS += _NUMBERS
_NO_ESTIMATE = (None, None, None, None)


def _whole(values: PerUnit) -> tuple[int, int, int, int]:
    """The per-unit figures as whole numbers of ten-thousandths (the four decimals an estimate
    shows), the pipe in euros: a copy of the database then holds no figure with decimals that
    could be taken for (or equal) a site's coordinate."""
    giver, taker, co2e, investment = values
    return (in_e4(giver), in_e4(taker), in_e4(co2e), round(investment))


def _match_columns(kept: list[Scored]) -> dict[str, list[Any]]:
    """The kept pairs as columns of numbers: each criterion's score and the estimate's per-unit
    figures, no words (their reasons and estimates are built when read: explain)."""
    rows = []
    for found in kept:
        offer, request = found.offer, found.request
        # Kept to 10 m, as shown, and scored at that distance, so that what is read back (the
        # reasons, the estimate) is what scoring the stored numbers gives: a number stored to
        # more decimals than it needs can also equal a site's coordinate in a database copy.
        km = round(found.distance_km, 2)
        pair = score_pair(offer, request, km=km, compatibility=found.compatibility) or found
        values = per_unit(pair)
        rows.append(
            (
                new_id(),
                offer.ref,
                request.ref,
                round(pair.score, 4),
                km,
                pair.archetype_id,
                # To the thousandth, as a reason shows each.
                *(round(v, 3) for v in criterion_scores(offer, request, km, pair.compatibility)),
                *(_NO_ESTIMATE if values is None else _whole(values)),
            )
        )
    columns = zip(*rows, strict=True)
    return {name: list(values) for name, values in zip(_COLUMNS, columns, strict=True)}


def _upsert_matches(session: Session, kept: list[Scored], now: datetime) -> None:
    """Insert the kept pairs, or update the stored row of the same pair (keeping its id and
    its suggestion): on PostgreSQL one statement whose rows are arrays, a column each (one
    round trip, nothing parsed per row); on SQLite, one statement run over every row (the
    driver's loop, in C)."""
    if not kept:
        return
    columns = _match_columns(kept)
    updated = (*_COLUMNS[3:], "computed_at")
    if session.get_bind().dialect.name == "postgresql":
        for start in range(0, len(kept), UPSERT_ROWS):
            part = {
                name: _array_literal(values[start : start + UPSERT_ROWS])
                for name, values in columns.items()
            }
            session.execute(_POSTGRESQL_UPSERT, {**part, "computed_at": now})
        return
    table = Match.__table__  # type: ignore[attr-defined]
    insert = _upsert(session, table)
    names = list(columns)
    rows = [
        {**dict(zip(names, values, strict=True)), "computed_at": now}
        for values in zip(*columns.values(), strict=True)
    ]
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["offer_flow_id", "request_flow_id"],
            set_={name: insert.excluded[name] for name in updated},
        ),
        rows,
    )


def _array_literal(values: list[Any]) -> str:
    """A column's values as PostgreSQL writes an array, ``{1.5,NULL}``: written with one join
    rather than by the driver element by element (three times slower for a chunk's 60,000).
    UUIDs and floats print nothing an array literal must quote; an archetype's id is quoted."""
    return "{" + ",".join(map(_element, values)) + "}"


def _element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


# Rows per statement of the PostgreSQL upsert: a chunk of a territory's recompute stores ~60,000.
UPSERT_ROWS = 20_000
_ARRAY_TYPES = {"id": "uuid", "offer_flow_id": "uuid", "request_flow_id": "uuid"}
_ARRAY_TYPES["archetype_id"] = "varchar"
_ARRAY_TYPES.update(dict.fromkeys(_NUMBERS[-4:], "int8"))
# Written out from the constants above (no input reaches it): unnest over arrays, which
# SQLAlchemy's insert() cannot say.
_POSTGRESQL_UPSERT = sa.text(
    f"INSERT INTO matches ({', '.join(_COLUMNS)}, computed_at) "  # noqa: S608
    "SELECT *, :computed_at FROM unnest("
    + ", ".join(f"CAST(:{name} AS {_ARRAY_TYPES.get(name, 'float8')}[])" for name in _COLUMNS)
    + ") ON CONFLICT (offer_flow_id, request_flow_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in (*_COLUMNS[3:], "computed_at"))
).bindparams(sa.bindparam("computed_at", type_=UTCDateTime()))


def _mark_matched(session: Session, flow_ids: list[uuid.UUID], now: datetime) -> None:
    table = MatchedFlow.__table__  # type: ignore[attr-defined]
    if not flow_ids:
        return
    insert = _upsert(session, table)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["flow_id"], set_={"matched_at": insert.excluded.matched_at}
        ),
        [{"flow_id": flow_id, "matched_at": now} for flow_id in flow_ids],
    )


def unmatched_flows(session: Session) -> list[uuid.UUID]:
    """Active flows never matched, or changed since they last were."""
    query = (
        select(Flow.id)
        .outerjoin(MatchedFlow, col(MatchedFlow.flow_id) == col(Flow.id))
        .where(
            Flow.status == FlowStatus.ACTIVE,
            col(MatchedFlow.matched_at).is_(None) | (col(MatchedFlow.matched_at) < Flow.updated_at),
        )
        .order_by(col(Flow.id))
    )
    return list(session.exec(query).all())


def match_flows(session: Session, flow_ids: Sequence[uuid.UUID]) -> int:
    """Recompute and store the matches of these flows (a withdrawn flow loses its matches)."""
    pairs = compute_pairs(session, flow_ids)
    return store_matches(session, flow_ids, pairs)


def recompute_chunk(session: Session, offer_ids: Sequence[uuid.UUID]) -> int:
    """One chunk of a whole-territory recompute: these offers against every request."""
    return match_flows(session, offer_ids)


def offer_chunks(session: Session, size: int = TERRITORY_CHUNK) -> list[list[uuid.UUID]]:
    """Every active offer's id, in chunks that workers can take in parallel."""
    ids = session.exec(
        select(Flow.id)
        .where(Flow.status == FlowStatus.ACTIVE, Flow.direction == Direction.OFFER)
        .order_by(col(Flow.id))
    ).all()
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


@handles(FLOW_CREATED)
@handles(FLOW_CHANGED)
def flow_changed(session: Session, flow: Flow) -> None:
    """A flow was created, edited or withdrawn: its matches are recomputed after commit."""
    flows_changed(session, [flow.id])


@handles(SITE_MOVED)
def site_moved(session: Session, site: Site) -> None:
    """A site moved: its active flows' matches are recomputed after commit."""
    query = select(Flow.id).where(Flow.site_id == site.id, Flow.status == FlowStatus.ACTIVE)
    flows_changed(session, list(session.exec(query).all()))


def flows_changed(session: Session, flow_ids: Sequence[uuid.UUID]) -> None:
    """Recompute these flows' matches once the transaction commits (an import's flows too)."""
    # Imported here: the task module imports this one.
    from marketplace.matching.tasks import match_flows_task

    for start in range(0, len(flow_ids), CHUNK):
        enqueue(session, match_flows_task, [str(i) for i in flow_ids[start : start + CHUNK]])


# --- reading matches ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberMatch:
    score: float
    breakdown: list[dict[str, object]]
    counterpart: ListingPublic
    # From the same facts as the score: the member's own figures and the card's classes.
    estimate: dict[str, Any] | None


@dataclass(frozen=True)
class FlowMatches:
    flow_id: uuid.UUID
    matches: list[MemberMatch]
    # Counterparts the catalogue does not show that the facilitator suggested: no detail.
    facilitator_has_counterpart: bool


def member_matches(
    session: Session, actor: Actor, flow_id: uuid.UUID, limit: int = 10
) -> FlowMatches:
    """A flow's matches as its owner may see them: scored on the public cards, from its site."""
    flow = get_flow(session, actor, flow_id)
    place = site_place(session, flow.site_id)
    assert place is not None
    _, latitude, longitude = place
    company = session.get(Company, flow.company_id)
    own = own_flow_facts(flow, latitude, longitude, company.nace if company else None)
    other = Direction.REQUEST if flow.direction == Direction.OFFER else Direction.OFFER
    listings = session.exec(
        select(Listing).where(
            *public_where(), Listing.kind == str(flow.kind), Listing.direction == str(other)
        )
    ).all()
    found: list[tuple[Scored, Listing, str]] = []
    for listing in listings:
        if listing.company_id == flow.company_id:
            continue
        card = card_facts(listing)
        measured = haversine_km(latitude, longitude, card.latitude, card.longitude)
        band, km = distance_band(measured), band_middle_km(measured)
        offer, request = (own, card) if flow.direction == Direction.OFFER else (card, own)
        scored = score_pair(offer, request, km=km, band=band)
        if scored is not None:
            found.append((scored, listing, band))
    found.sort(key=lambda item: (-item[0].score, str(item[1].id)))
    matches = [
        MemberMatch(
            score=round(scored.score, 3),
            breakdown=scored.breakdown(),
            counterpart=to_public(listing, band),
            estimate=estimate(scored),
        )
        for scored, listing, band in found[:limit]
    ]
    return FlowMatches(flow.id, matches, _suggested(session, flow))


def _suggested(session: Session, flow: Flow) -> bool:
    column = Match.offer_flow_id if flow.direction == Direction.OFFER else Match.request_flow_id
    return (
        session.exec(
            select(Match.id).where(column == flow.id, col(Match.suggested_at).is_not(None))
        ).first()
        is not None
    )


@dataclass(frozen=True)
class StoredMatch:
    """A stored match as the facilitator reads it: its reasons and estimate built from its
    numbers and the two flows (explain)."""

    match: Match
    breakdown: list[dict[str, Any]]
    estimate: dict[str, Any] | None

    @property
    def distance_km(self) -> float:
        """The distance as shown: to 10 m (the reasons' km are rounded from the stored one)."""
        return round(self.match.distance_km, 2)


def explain(session: Session, matches: Sequence[Match]) -> list[StoredMatch]:
    """The stored matches with their reasons and estimate (explained), their flows read in
    whatever state they are (a withdrawn flow's match is shown until its task drops it)."""
    flow_ids = {m.offer_flow_id for m in matches} | {m.request_flow_id for m in matches}
    facts: dict[uuid.UUID, Facts] = {}
    ids = sorted(flow_ids, key=str)
    for start in range(0, len(ids), CHUNK):
        for flow in _facts_of(session, ids[start : start + CHUNK], active=False):
            facts[flow.ref] = flow
    return [
        explained(match, facts.get(match.offer_flow_id), facts.get(match.request_flow_id))
        for match in matches
    ]


def explained(match: Match, offer: Facts | None, request: Facts | None) -> StoredMatch:
    """A stored match's reasons and estimate: the words from the two flows as they are
    (scoring.criteria_of, economics.estimate), the scores and the € and CO₂e figures from the
    match, so that what is read agrees with what is ranked and planned. A suggestion that is no
    longer a match (its numbers cleared) has neither."""
    scores = [getattr(match, name) for name in _NUMBERS[:6]]
    if offer is None or request is None or None in scores:
        return StoredMatch(match, [], None)
    found = material_compatibility(material_side(offer), material_side(request))
    km = match.distance_km
    breakdown = [c.as_dict() for c in criteria_with_scores(offer, request, km, found, scores)]
    # The estimate's archetype is the one the match was stored with, as its figures are.
    pair = Scored(offer, request, match.score, km, replace(found, archetype_id=match.archetype_id))
    return StoredMatch(match, breakdown, estimate(pair, _per_unit(match)))


def _per_unit(match: Match) -> PerUnit | None:
    giver, taker = match.eur_giver_per_unit_e4, match.eur_taker_per_unit_e4
    co2e, investment = match.co2e_kg_per_unit_e4, match.investment_eur
    if giver is None or taker is None or co2e is None or investment is None:
        return None
    return PerUnit(giver / E4, taker / E4, co2e / E4, float(investment))


def stored_matches(
    session: Session, actor: Actor, flow_id: uuid.UUID, limit: int = 25
) -> list[StoredMatch]:
    """A flow's stored matches, best first, with their reasons: the facilitator's view."""
    actor.require_staff()
    flow = get_flow(session, actor, flow_id)
    column = Match.offer_flow_id if flow.direction == Direction.OFFER else Match.request_flow_id
    query = select(Match).where(column == flow.id).order_by(col(Match.score).desc()).limit(limit)
    return explain(session, list(session.exec(query).all()))


def suggest(session: Session, actor: Actor, match_id: uuid.UUID) -> Match:
    """The facilitator judges a match worth proposing to both members."""
    actor.require_staff()
    match = session.get(Match, match_id)
    if match is None:
        raise NoSuchMatch()
    if match.suggested_at is None:
        match.suggested_at = utcnow()
        session.add(match)
        session.flush()
    return match


@dataclass(frozen=True)
class RankedPair:
    match: Match
    offer: Flow
    request: Flow
    rank: int  # 1 = the offer's best request


def territory_ranking(session: Session, actor: Actor) -> list[RankedPair]:
    """Every offer's stored requests, ranked: the facilitator's whole-territory view."""
    actor.require_staff()
    offer, request = sa.orm.aliased(Flow), sa.orm.aliased(Flow)
    rows = session.exec(
        select(Match, offer, request)
        .join(offer, col(offer.id) == col(Match.offer_flow_id))
        .join(request, col(request.id) == col(Match.request_flow_id))
        .where(
            col(offer.status) == FlowStatus.ACTIVE,
            col(request.status) == FlowStatus.ACTIVE,
            col(Match.score) > 0,  # a suggestion that is no longer a match (store_matches)
        )
        .order_by(col(Match.offer_flow_id), col(Match.score).desc(), col(Match.request_flow_id))
    ).all()
    ranked, rank, previous = [], 0, None
    for match, offer_flow, request_flow in rows:
        rank = rank + 1 if match.offer_flow_id == previous else 1
        previous = match.offer_flow_id
        ranked.append(RankedPair(match, offer_flow, request_flow, rank))
    return ranked


# --- prospects: who usually takes this residue ---------------------------------------------------


@dataclass(frozen=True)
class ProspectSector:
    nace: str  # a NACE division, group or class, as the knowledge base names receivers
    label: str | None
    use_fr: str
    use_en: str
    archetype_id: str


@dataclass(frozen=True)
class ProspectCompany:
    company_id: uuid.UUID
    nace: str
    nace_label: str | None
    distance_km: float
    archetype_ids: tuple[str, ...]


@dataclass(frozen=True)
class Prospects:
    flow_id: uuid.UUID
    sectors: list[ProspectSector]
    # The facilitator's only: member companies of those sectors within the offer's reach.
    companies: list[ProspectCompany]


def prospects(session: Session, actor: Actor, flow_id: uuid.UUID, limit: int = 25) -> Prospects:
    """The sectors that usually take an offer's residue (from the knowledge base: the same for
    everyone, so it teaches nothing about who is in the territory) and, for the facilitator
    only, the member companies of those sectors within reach, nearest first."""
    flow = get_flow(session, actor, flow_id)
    if flow.direction != Direction.OFFER:
        raise NotAnOffer(field="flow_id")
    found = _facts_of(session, [flow.id])
    if not found:  # withdrawn: no prospects to look for
        return Prospects(flow.id, [], [])
    offer = found[0]
    every = archetypes()
    chosen = [every[i] for i in sorted(offer_archetypes(offer))]
    sectors = [
        ProspectSector(nace, sector_label(_naf(nace)), a.use_fr, a.use_en, a.id)
        for a in chosen
        for nace in a.receiving_nace
    ]
    companies: list[ProspectCompany] = []
    if actor.is_staff and sectors:
        reach = max_distance_km(offer.kind, offer.low_code)
        rows = session.exec(
            select(Company.id, Company.nace, Site.h3_cell)
            .join(Site, col(Site.company_id) == col(Company.id))
            .where(col(Company.id) != flow.company_id)
        ).all()
        best: dict[uuid.UUID, ProspectCompany] = {}
        for company_id, nace, cell in rows:
            fits = tuple(sorted({s.archetype_id for s in sectors if nace.startswith(s.nace)}))
            if not fits:
                continue
            latitude, longitude = cell_point(cell)
            km = haversine_km(offer.latitude, offer.longitude, latitude, longitude)
            if km > reach:
                continue
            known_best = best.get(company_id)
            if known_best is None or km < known_best.distance_km:
                best[company_id] = ProspectCompany(
                    company_id, nace, sector_label(nace), round(km, 1), fits
                )
        companies = sorted(best.values(), key=lambda c: (c.distance_km, str(c.company_id)))
    return Prospects(flow.id, sectors, companies[:limit])


def _naf(nace: str) -> str:
    """The nomenclature's code for a knowledge-base sector: "23.51" is stored as its subclass
    when it has one, "23" or "23.5" as they are."""
    try:
        return parse_sector(nace).code if len(nace) == 5 else nace
    except SectorRefused:
        return nace


# --- the territory plan ------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedExchange:
    match: Match
    offer: Flow
    request: Flow
    quantity: float  # per year, in the flows' base unit
    co2e_t: float
    eur: float


@dataclass(frozen=True)
class TerritoryPlan:
    objective: str
    exchanges: list[PlannedExchange]
    total_co2e_t: float
    total_eur: float


def _co2e_per_unit(match: Match) -> float | None:
    """kg CO₂e avoided per unit exchanged, as the match's estimate shows it (rounded alike)."""
    values = _per_unit(match)
    return None if values is None else round(values.co2e_kg, 4)


def _eur_per_unit(match: Match) -> float | None:
    """€ saved per unit exchanged, both sides, as the match's estimate shows it."""
    values = _per_unit(match)
    return None if values is None else eur_per_unit(values.eur_giver, values.eur_taker)


def territory_plan(session: Session, actor: Actor, objective: str = "co2e") -> TerritoryPlan:
    """The exchanges that maximise CO₂e avoided (or € saved) under every offer's quantity and
    every request's need, quantities split where that is better (matching/plan.py)."""
    actor.require_staff()
    pairs = territory_ranking(session, actor)
    by_key = {pair.match.id: pair for pair in pairs}
    value = _co2e_per_unit if objective == "co2e" else _eur_per_unit
    candidates = [
        PlanPair(p.match.id, p.offer.id, p.request.id, found)
        for p in pairs
        if (found := value(p.match)) is not None
    ]
    supply = {p.offer.id: p.offer.quantity_per_year for p in pairs}
    demand = {p.request.id: p.request.quantity_per_year for p in pairs}
    exchanges = []
    for allocation in plan.solve(candidates, supply, demand):
        pair = by_key[allocation.pair.key]
        exchanges.append(
            PlannedExchange(
                pair.match,
                pair.offer,
                pair.request,
                round(allocation.quantity, 3),
                round(allocation.quantity * (_co2e_per_unit(pair.match) or 0.0) / 1000, 3),
                round(allocation.quantity * (_eur_per_unit(pair.match) or 0.0), 2),
            )
        )
    exchanges.sort(key=lambda e: -(e.co2e_t if objective == "co2e" else e.eur))
    return TerritoryPlan(
        objective,
        exchanges,
        round(sum(e.co2e_t for e in exchanges), 3),
        round(sum(e.eur for e in exchanges), 2),
    )
