"""Contracts: versions, comments, signatures, documents, deliveries, notices

Revision ID: 0012_contracts
Revises: 0010_intro_pools
Create Date: 2026-11-30 23:00:00

New tables only. What names a company or a person is sealed (privacy.vault.SealedText, stored
as LargeBinary): a version's terms, evidence texts, case-by-case decision, note and signed PDF,
comments, documents' names and contents, deliveries' lots, carriers and statements.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime

revision = "0012_contracts"
down_revision = "0011_match_numbers"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def _sealed(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.LargeBinary(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "contracts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("introduction_id", sa.Uuid(), sa.ForeignKey("introductions.id"), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("giver_company_id", sa.Uuid(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("taker_company_id", sa.Uuid(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _ts("activated_at", True),
        _ts("closed_at", True),
        _ts("end_reminded_at", True),
        _ts("overdue_reminded_at", True),
        _ts("created_at"),
        _ts("updated_at"),
        # One per introduction, or for a pooled offer one per contributor (the giver).
        sa.UniqueConstraint("introduction_id", "giver_company_id"),
        sa.UniqueConstraint("reference"),
    )
    for column in ("introduction_id", "state", "giver_company_id", "taker_company_id", "end_date"):
        op.create_index(f"ix_contracts_{column}", "contracts", [column])
    op.create_table(
        "contract_versions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("contract_id", sa.Uuid(), sa.ForeignKey("contracts.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        _sealed("terms"),
        sa.Column("terms_hash", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=24), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=True),
        _sealed("evidence"),
        sa.Column("r_code", sa.String(length=8), nullable=True),
        sa.Column("end_of_waste_act", sa.String(length=64), nullable=True),
        _sealed("case_by_case_decision", True),
        _ts("qualified_at", True),
        _ts("frozen_at", True),
        _sealed("pdf", True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("author_user_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=True),
        _sealed("note"),
        _ts("created_at"),
        sa.UniqueConstraint("contract_id", "number"),
    )
    op.create_index("ix_contract_versions_contract_id", "contract_versions", ["contract_id"])
    op.create_table(
        "contract_comments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("contract_id", sa.Uuid(), sa.ForeignKey("contracts.id"), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("author_user_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("author_side", sa.String(length=12), nullable=False),
        _sealed("body"),
        _ts("created_at"),
    )
    op.create_index("ix_contract_comments_contract_id", "contract_comments", ["contract_id"])
    op.create_table(
        "contract_signatures",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("contract_id", sa.Uuid(), sa.ForeignKey("contracts.id"), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        _ts("signed_at"),
        sa.Column("certificate_serial", sa.String(length=64), nullable=False),
        _ts("voided_at", True),
        sa.UniqueConstraint("contract_id", "version_number", "role"),
    )
    op.create_index("ix_contract_signatures_contract_id", "contract_signatures", ["contract_id"])
    op.create_table(
        "contract_documents",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("contract_id", sa.Uuid(), sa.ForeignKey("contracts.id"), nullable=False),
        _sealed("name"),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        _sealed("content"),
        sa.Column("uploaded_by", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        _ts("created_at"),
        sa.UniqueConstraint("contract_id", "sha256"),
    )
    op.create_index("ix_contract_documents_contract_id", "contract_documents", ["contract_id"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("contract_id", sa.Uuid(), sa.ForeignKey("contracts.id"), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        _sealed("lot"),
        _sealed("carrier"),
        _sealed("conformity_statement", True),
        sa.Column("conformity_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        _ts("created_at"),
    )
    op.create_index("ix_deliveries_contract_id", "deliveries", ["contract_id"])
    op.create_table(
        "contract_notices",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("contract_id", sa.Uuid(), sa.ForeignKey("contracts.id"), nullable=False),
        sa.Column("recipient_company_id", sa.Uuid(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _ts("created_at"),
        _ts("sent_at", True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("read_at", True),
    )
    for column in ("contract_id", "recipient_company_id"):
        op.create_index(f"ix_contract_notices_{column}", "contract_notices", [column])


def downgrade() -> None:
    for table in (
        "contract_notices",
        "deliveries",
        "contract_documents",
        "contract_signatures",
        "contract_comments",
        "contract_versions",
        "contracts",
    ):
        op.drop_table(table)
