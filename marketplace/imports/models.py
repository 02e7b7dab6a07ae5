"""An import job: the uploaded file, its progress and its report."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UTCDateTime, new_id, utcnow


class ImportStatus(enum.StrEnum):
    PENDING = "pending"
    VALIDATING = "validating"
    WRITING = "writing"
    DONE = "done"
    FAILED = "failed"  # bad rows and no skip asked: nothing was written


class ImportJob(SQLModel, table=True):
    __tablename__ = "import_jobs"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    filename: str = Field(max_length=255)
    # The file itself, so a worker on another machine can read it.
    content: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    skip_bad_rows: bool = False
    publish: bool = False
    status: ImportStatus = Field(default=ImportStatus.PENDING, sa_column=sa.Column(sa.String(16)))
    total_rows: int = 0
    processed_rows: int = 0
    # {"errors": [{"line": 7, "field": "low_code", "reason": "..."}], "created": {...}}
    report: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False)
    )
    finished_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
