"""List of Waste search by code or by words (French or English, accents ignored)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlmodel import Session, col, select

from core.reference.models import LowCode, Operation
from core.text import fold


def search_low_codes(
    session: Session, query: str, *, entries_only: bool = True, limit: int = 20
) -> Sequence[LowCode]:
    statement = select(LowCode)
    if entries_only:
        statement = statement.where(LowCode.level == "entry")
    compact = re.sub(r"[\s.*]", "", query)
    if compact.isdigit():
        statement = statement.where(col(LowCode.code).startswith(compact))
    else:
        for word in fold(query).split():
            statement = statement.where(col(LowCode.search_text).contains(word))
    return session.exec(statement.order_by(col(LowCode.code)).limit(limit)).all()


def list_operations(session: Session) -> Sequence[Operation]:
    return session.exec(select(Operation).order_by(col(Operation.code))).all()
