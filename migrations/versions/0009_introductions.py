"""Introductions, their outbox and their relayed messages

Revision ID: 0009_introductions
Revises: 0008_search_text
Create Date: 2026-11-30 17:00:00

Three new tables, nothing changed in the others. Identities stay in the vault: an introduction
names both companies by id, its screening note and messages are sealed (privacy.vault.SealedText),
and an outbox payload holds ids and states only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime

revision = "0009_introductions"
down_revision = "0008_search_text"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "introductions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("listing_id", sa.Uuid(), sa.ForeignKey("listings.id"), nullable=True),
        sa.Column("match_id", sa.Uuid(), sa.ForeignKey("matches.id"), nullable=True),
        sa.Column("requester_company_id", sa.Uuid(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("owner_company_id", sa.Uuid(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("requester_flow_id", sa.Uuid(), sa.ForeignKey("flows.id"), nullable=True),
        sa.Column("owner_flow_id", sa.Uuid(), sa.ForeignKey("flows.id"), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("screening_note", sa.LargeBinary(), nullable=False),  # sealed
        sa.Column("proposed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("owner_accepted_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("requester_accepted_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revealed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("requester_sees_from", UTCDateTime(timezone=True), nullable=True),
        sa.Column("requester_view", sa.String(length=24), nullable=True),
        sa.Column("requester_left", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )
    for column in ("listing_id", "match_id", "requester_company_id", "owner_company_id", "state"):
        op.create_index(f"ix_introductions_{column}", "introductions", [column])
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("introduction_id", sa.Uuid(), sa.ForeignKey("introductions.id"), nullable=True),
        sa.Column("recipient_company_id", sa.Uuid(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("read_at", UTCDateTime(timezone=True), nullable=True),
    )
    for column in ("introduction_id", "recipient_company_id"):
        op.create_index(f"ix_outbox_messages_{column}", "outbox_messages", [column])
    op.create_table(
        "introduction_messages",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("introduction_id", sa.Uuid(), sa.ForeignKey("introductions.id"), nullable=False),
        sa.Column("author_side", sa.String(length=12), nullable=False),
        sa.Column("author_user_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),  # sealed
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_introduction_messages_introduction_id", "introduction_messages", ["introduction_id"]
    )


def downgrade() -> None:
    op.drop_table("introduction_messages")
    op.drop_table("outbox_messages")
    op.drop_table("introductions")
