"""Response model of an import job: its progress and its report."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from marketplace.imports.models import ImportStatus


class ImportJobRead(BaseModel):
    """An import as the facilitator who uploaded it sees it.

    `report` holds `errors` (each `{"line", "field", "reason"}`, the header being line 1) and, once
    done, `created` and `reused` counts, and with `--publish` the rows imported but left
    unpublished because their text would name or locate the company (`unpublished`, each
    `{"line", "field", "reason"}` saying what to rewrite). It never holds the companies' identities
    nor any cell's value.
    """

    id: uuid.UUID
    filename: str
    status: ImportStatus
    total_rows: int
    processed_rows: int
    percent: int = Field(
        ge=0,
        le=100,
        description="Progress bar: validating fills 0-90, writing shows 90, done or failed 100.",
    )
    report: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None
