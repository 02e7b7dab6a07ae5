"""A listing's search text holds its own words, not its family's label

Revision ID: 0008_search_text
Revises: 0005_listing_units
Create Date: 2026-12-01 09:00:00

The catalogue's word search matched a material's family label: every listing of the family
« Minéraux, cendres et laitiers » answered « cendres », demolition concrete included. The search
text is now the listing's title, description, the label of the finest List of Waste level its card
shows (entry, else subchapter, else chapter; French and English) and, for heat, water and gas, the
kind's label (their family). Publishing, the publication run and pools compute it
(catalogue/cards.py); this migration recomputes every stored listing at once, drafts and paused
ones included, rather than leaving stale texts until each is placed again (the daily run only
re-places published listings). SQLite's word indexes follow the update through their triggers
(migration 0002); PostgreSQL's trigram index follows it by itself. The catalogue's version token
is renewed, so no cached response outlives the change.

The rule is written out here: a migration keeps the shape it had when it was written. The
downgrade puts the family labels back for every listing, as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from core.reference.loader import low_rows
from core.text import fold
from privacy.generalisation import FAMILIES

revision = "0008_search_text"
down_revision = "0005_listing_units"
branch_labels = None
depends_on = None

listings = sa.table(
    "listings",
    sa.column("id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("family", sa.String()),
    sa.column("title", sa.String()),
    sa.column("description", sa.String()),
    sa.column("low_chapter", sa.String()),
    sa.column("low_subchapter", sa.String()),
    sa.column("public_low_code", sa.String()),
    sa.column("search_text", sa.String()),
)

versions = sa.table("catalogue_versions", sa.column("id", sa.Integer()), sa.column("version"))

Row = sa.Row[tuple[object, ...]]
BATCH = 1_000


def _labels(code: str | None, labels: dict[str, tuple[str, str]]) -> list[str]:
    return list(labels.get(code or "", ("", "")))


def _family(row: Row) -> list[str]:
    family = FAMILIES.get(str(row.family))
    return [family.label_fr, family.label_en] if family else []


def _own_words(row: Row, labels: dict[str, tuple[str, str]]) -> str:
    parts = [str(row.title), str(row.description)]
    parts += _labels(row.public_low_code or row.low_subchapter or row.low_chapter, labels)
    if row.kind != "material":
        parts += _family(row)
    return fold(" ".join(parts))


def _with_family(row: Row, labels: dict[str, tuple[str, str]]) -> str:
    parts = [str(row.title), str(row.description), *_family(row)]
    for code in (row.low_chapter, row.low_subchapter, row.public_low_code):
        parts += _labels(code, labels)
    return fold(" ".join(parts))


def _recompute(rule: Callable[[Row, dict[str, tuple[str, str]]], str]) -> None:
    labels = {r["code"]: (r["description_fr"], r["description_en"]) for r in low_rows()}
    connection = op.get_bind()
    rows = connection.execute(sa.select(*listings.c).order_by(listings.c.id)).all()
    changed = [
        {"row_id": row.id, "text": text}
        for row in rows
        if (text := rule(row, labels)) != row.search_text
    ]
    update = (
        listings.update()
        .where(listings.c.id == sa.bindparam("row_id"))
        .values(search_text=sa.bindparam("text"))
    )
    for start in range(0, len(changed), BATCH):
        connection.execute(update, changed[start : start + BATCH])
    # What the catalogue answers changed: a fresh version token, so no process serves a response
    # it cached before (catalogue/cache.py).
    connection.execute(versions.update().where(versions.c.id == 1).values(version=uuid.uuid4().hex))


def upgrade() -> None:
    _recompute(_own_words)


def downgrade() -> None:
    _recompute(_with_family)
