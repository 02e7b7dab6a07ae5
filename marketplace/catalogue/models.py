"""Listings (the published, generalised view of a flow), pooled-offer shares, saved searches."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, SQLModel, col

from core.models import UTCDateTime, new_id, utcnow
from marketplace.catalogue.states import ListingStatus

# What the public may see, written once here: a listing is public when it is published and not
# brokered only (a waiting listing is brokered only until a run places it). Search, alerts, the word
# indexes, pools and statistics use `is_public` or `public_where`; the partial indexes below (and
# migration 0003, frozen) repeat it as literal SQL, which the planners need to use them.
PUBLIC_SQLITE = sa.text("status = 'published' AND brokered_only = 0")
PUBLIC_POSTGRESQL = sa.text("status = 'published' AND brokered_only = false")
PUBLISHED_ORDER_COLUMNS = (
    "published_at",
    "id",
    "kind",
    "direction",
    "family",
    "hazardous",
    "low_chapter",
    "low_subchapter",
    "public_low_code",
    "quantity_band",
    "regularity",
    "public_departement",
    "region_code",
    "latitude",
    "longitude",
)


def _ts(nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(UTCDateTime(), nullable=nullable)


class Listing(SQLModel, table=True):
    """One row per published flow (or per pooled offer). Columns split in two groups: the
    generalised public view, recomputed whenever a cell it shares changes, and internal columns
    (owner, material code, quantity) that no response ever shows. No column holds a site's exact
    position: latitude and longitude are the published location's point (privacy/places.py)."""

    __tablename__ = "listings"
    __table_args__ = (
        # Partial indexes over what search may show: SQLite uses them only when the query
        # repeats their condition with the same constants (catalogue/search.py does).
        sa.Index(
            "ix_listings_search",
            "kind",
            "direction",
            sqlite_where=PUBLIC_SQLITE,
            postgresql_where=PUBLIC_POSTGRESQL,
        ),
        # The date order, covering every column a search filters on or a page's keys need
        # (search._read_segment): walking it down the dates until a page fills, a search never
        # reads a table row it then rejects. Rare filter combinations walk far, and a table row
        # costs ten times an index entry (migration 0003).
        sa.Index(
            "ix_listings_published",
            *PUBLISHED_ORDER_COLUMNS,
            sqlite_where=PUBLIC_SQLITE,
            postgresql_where=PUBLIC_POSTGRESQL,
        ),
        sa.Index("ix_listings_latitude", "latitude"),
        sa.Index("ix_listings_group", "kind", "direction", "region_code", "group_key"),
        # One live listing per flow, even when two requests publish the same flow at once.
        sa.Index(
            "uq_listings_live_flow",
            "flow_id",
            unique=True,
            sqlite_where=sa.text("status IN ('draft', 'published', 'paused')"),
            postgresql_where=sa.text("status IN ('draft', 'published', 'paused')"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    # --- internal ------------------------------------------------------------------------------
    # At most one live (non-terminal) listing per flow: checked by the service.
    flow_id: uuid.UUID | None = Field(default=None, foreign_key="flows.id", index=True)
    company_id: uuid.UUID | None = Field(default=None, foreign_key="companies.id", index=True)
    aggregated: bool = False  # a pooled offer built by the facilitator from several flows
    # The point of the published location (its resolution-6 cell's centre, or a fixed point of its
    # département or région), set with the public view: distance bands start from here.
    latitude: float
    longitude: float
    h3_cell: str = Field(max_length=16)  # the site's resolution-7 cell
    departement_code: str = Field(max_length=3)
    low_code: str | None = Field(default=None, max_length=8)
    quantity_per_year: float
    # Its unit, as the flow's (marketplace/flows/units.py): a gas is metered in m³ or in MWh, and
    # the card's quantity class says which. None: the kind's (migration 0005 filled the older rows).
    base_unit: str | None = Field(default=None, max_length=8)
    temperature_c: float | None = None
    # The recompute group: every cell a listing can be published in lies inside its
    # (kind, direction, région, chapter-or-kind), so a change re-checks that group only.
    group_key: str = Field(max_length=16)
    # --- lifecycle -----------------------------------------------------------------------------
    status: ListingStatus = Field(
        default=ListingStatus.DRAFT, sa_column=sa.Column(sa.String(16), nullable=False)
    )
    direction: str = Field(max_length=8)
    kind: str = Field(max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    published_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # --- placement (catalogue/service: the join rule and the publication run) -----------------
    # Published but not yet placed: no public cell it belongs to was shown when it was published,
    # so it waits for the next publication run (not in search, like a brokered-only listing).
    waiting: bool = False
    # The ladder step and cell (generalisation.cell_key) it is shown at: a run never moves it
    # finer, and when it leaves public view these become a ghost of that cell (ListingGhost).
    public_step: int | None = None
    public_cell: str | None = Field(default=None, max_length=128)
    # --- generalised public view ---------------------------------------------------------------
    brokered_only: bool = True
    material_level: str = Field(default="chapter", max_length=12)
    material_key: str = Field(default="", max_length=16)
    family: str = Field(default="", max_length=16)
    low_chapter: str | None = Field(default=None, max_length=2, index=True)
    low_subchapter: str | None = Field(default=None, max_length=4, index=True)
    public_low_code: str | None = Field(default=None, max_length=8, index=True)
    hazardous: bool = False
    location_level: str = Field(default="region", max_length=12)
    location_key: str = Field(default="", max_length=24)
    region_code: str = Field(max_length=3)
    public_departement: str | None = Field(default=None, max_length=3, index=True)
    quantity_band: int | None = None  # None: dominated ("present") or not yet placed
    temperature_band: int | None = None
    regularity: str = Field(max_length=12)
    months_mask: int = 0
    title: str = Field(max_length=200)  # scrubbed label
    description: str = ""  # scrubbed description
    # Folded title, description and LoW labels, for word search; the folded title opens it. On
    # SQLite, two trigram indexes (listings_fts, listings_fts_titles) follow it through triggers
    # (migration 0002): they are not tables SQLModel can declare.
    search_text: str = ""


def is_public(listing: Listing) -> bool:
    """Shown in the catalogue to everyone: published and not brokered only."""
    return listing.status == ListingStatus.PUBLISHED and not listing.brokered_only


def public_where() -> list[ColumnElement[bool]]:
    """``is_public`` as SQL conditions. The constants are written in the SQL rather than bound:
    SQLite uses a partial index (the one on the public listings' dates) only when the query
    repeats its WHERE terms literally."""
    return [
        col(Listing.status) == sa.literal_column(f"'{ListingStatus.PUBLISHED.value}'"),
        col(Listing.brokered_only) == sa.false(),
    ]


class PoolShare(SQLModel, table=True):
    """A company's flow inside a pooled offer; each contributor accepts its own share."""

    __tablename__ = "pool_shares"
    __table_args__ = (sa.UniqueConstraint("listing_id", "flow_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    listing_id: uuid.UUID = Field(foreign_key="listings.id", index=True)
    flow_id: uuid.UUID = Field(foreign_key="flows.id", index=True)
    company_id: uuid.UUID = Field(foreign_key="companies.id", index=True)
    quantity_per_year: float


class ListingGhost(SQLModel, table=True):
    """A listing that left a public cell (withdrawn, paused, expired, fulfilled or edited away):
    its legal unit keeps counting in that cell for SYMBIOSE_PUBLICATION_HYSTERESIS_DAYS, so that
    one company's departure does not push its neighbours coarser or out of search at the next run.
    A row of its own rather than columns of the listing: an edited listing is live in a new cell
    while still a ghost of its old one."""

    __tablename__ = "listing_ghosts"
    __table_args__ = (
        sa.Index("ix_listing_ghosts_group", "kind", "direction", "region_code", "group_key"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    listing_id: uuid.UUID = Field(foreign_key="listings.id", index=True)
    # The blind index of the legal unit (companies.legal_unit_index), what k counts.
    legal_unit: str = Field(max_length=64)
    # The listing's recompute group (Listing.kind, direction, region_code, group_key).
    kind: str = Field(max_length=8)
    direction: str = Field(max_length=8)
    region_code: str = Field(max_length=3)
    group_key: str = Field(max_length=16)
    step: int
    cell: str = Field(max_length=128)
    left_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class CatalogueVersion(SQLModel, table=True):
    """One row whose token changes in the same transaction as anything the public catalogue shows,
    so every process (on every machine) can tell when its cached catalogue responses went stale."""

    __tablename__ = "catalogue_versions"

    # A single row: the key is a constant, not an identity.
    id: int = Field(default=1, primary_key=True)
    # Random, not a counter: a restored or emptied database could bring a counter back to a value
    # some process still holds entries for; a fresh random token never comes back.
    version: str = Field(max_length=32)
    changed_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
