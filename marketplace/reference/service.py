"""List of Waste search by code or by words (French or English, accents ignored)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlmodel import Session, col, select

from core.reference.models import Departement, LowCode, Operation, Region
from core.text import collation_key, fold


def search_low_codes(
    session: Session, query: str, *, entries_only: bool = True, limit: int | None = 20
) -> Sequence[LowCode]:
    """Entries whose code starts with the digits typed, or whose folded French and English labels
    hold every word typed (as a substring), by code; ``limit=None``: all of them. The picker
    ranks these with the words practitioners use (matching/low_codes.py)."""
    statement = select(LowCode)
    if entries_only:
        statement = statement.where(LowCode.level == "entry")
    compact = re.sub(r"[\s.*]", "", query)
    if compact.isdigit():
        statement = statement.where(col(LowCode.code).startswith(compact))
    else:
        for word in fold(query).split():
            statement = statement.where(col(LowCode.search_text).contains(word))
    statement = statement.order_by(col(LowCode.code))
    return session.exec(statement if limit is None else statement.limit(limit)).all()


def operation_order(operation: Operation) -> tuple[bool, object]:
    """The directive's order: recoveries R 1 to R 13, then disposals D 1 to D 15, numbers read
    as numbers (the text order put D 10 and D 12 before D 2)."""
    return not operation.code.startswith("R"), collation_key(operation.code)


def list_operations(session: Session) -> Sequence[Operation]:
    return sorted(session.exec(select(Operation)).all(), key=operation_order)


def low_codes_by_code(session: Session, codes: Iterable[str]) -> Sequence[LowCode]:
    """The reference entries of these codes, in one query (public reference data)."""
    wanted = sorted(set(codes))
    if not wanted:
        return []
    return session.exec(select(LowCode).where(col(LowCode.code).in_(wanted))).all()


def place_names(session: Session) -> tuple[dict[str, str], dict[str, str]]:
    """Names of the departements and of the regions, by code."""
    departements = {d.code: d.name for d in session.exec(select(Departement))}
    regions = {r.code: r.name for r in session.exec(select(Region))}
    return departements, regions


def place_of(session: Session, departement_code: str, region_code: str) -> tuple[str, str]:
    """The departement's and the region's names, or their codes when the table lacks them."""
    departement = session.get(Departement, departement_code)
    region = session.get(Region, region_code)
    return (
        departement.name if departement else departement_code,
        region.name if region else region_code,
    )
