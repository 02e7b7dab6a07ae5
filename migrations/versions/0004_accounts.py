"""Accounts: users' e-mails sealed with a blind index for login; API tokens expire

Revision ID: 0004_accounts
Revises: 0004_positions
Create Date: 2026-11-30 07:20:00

A copy of the database named every user by e-mail (admin@<company>.fr). The address is now sealed
(privacy.vault.seal_text, the platform text key) and found at login through an HMAC blind index
of its normalised form; existing rows are converted here. API tokens gain an expiry: existing
tokens expire api_token_max_age_days after their creation (some at once, which is the point).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import core.models
from core.settings import get_settings
from privacy.blind_index import blind_index
from privacy.vault import open_text, seal_text

revision = "0004_accounts"
down_revision = "0004_positions"
branch_labels = None
depends_on = None

# Written out rather than imported: a migration keeps the shape it had when it was written.
EMAIL_INDEX_PURPOSE = "user-email"


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("email_index", sa.String(length=64), nullable=True))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", core.models.UTCDateTime(timezone=True), nullable=True)
        )

    bind = op.get_bind()
    users = sa.table(
        "users",
        sa.column("id", sa.Uuid()),
        sa.column("email", sa.String()),
        sa.column("email_sealed", sa.LargeBinary()),
        sa.column("email_index", sa.String()),
    )
    for user_id, email in bind.execute(sa.select(users.c.id, users.c.email)).all():
        normalised = email.strip().lower()
        bind.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(
                email_sealed=seal_text(normalised),
                email_index=blind_index(EMAIL_INDEX_PURPOSE, normalised),
            )
        )
    tokens = sa.table(
        "api_tokens",
        sa.column("id", sa.Uuid()),
        sa.column("created_at", core.models.UTCDateTime(timezone=True)),
        sa.column("expires_at", core.models.UTCDateTime(timezone=True)),
    )
    lifetime = timedelta(days=get_settings().api_token_max_age_days)
    for token_id, created_at in bind.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        bind.execute(
            tokens.update().where(tokens.c.id == token_id).values(expires_at=created_at + lifetime)
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("email_sealed", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column("email_index", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_index("ix_users_email")
        batch_op.drop_column("email")
        batch_op.create_index(batch_op.f("ix_users_email_index"), ["email_index"], unique=True)
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column(
            "expires_at", existing_type=core.models.UTCDateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    bind = op.get_bind()
    users = sa.table(
        "users",
        sa.column("id", sa.Uuid()),
        sa.column("email", sa.String()),
        sa.column("email_sealed", sa.LargeBinary()),
    )
    for user_id, sealed in bind.execute(sa.select(users.c.id, users.c.email_sealed)).all():
        bind.execute(
            users.update().where(users.c.id == user_id).values(email=open_text(bytes(sealed)))
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=False)
        batch_op.drop_index("ix_users_email_index")
        batch_op.drop_column("email_index")
        batch_op.drop_column("email_sealed")
        batch_op.create_index("ix_users_email", ["email"], unique=True)
