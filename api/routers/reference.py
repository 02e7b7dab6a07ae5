"""Public reference data: List of Waste search, R/D operations, end-of-waste acts, health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import SessionDep
from core.inputs import SearchWords
from marketplace.matching.low_codes import find_low_codes
from marketplace.reference import service

router = APIRouter(tags=["reference"])


class LowCodeRead(BaseModel):
    code: str
    spaced: str
    level: str
    hazardous: bool
    description_fr: str
    description_en: str


class OperationRead(BaseModel):
    code: str
    type: str
    description_fr: str


@router.get("/health", openapi_extra={"x-public": True})
def health(session: SessionDep) -> dict[str, str]:
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return {"status": "ok"}


@router.get(
    "/reference/low-codes", response_model=list[LowCodeRead], openapi_extra={"x-public": True}
)
def search_low_codes(
    session: SessionDep,
    q: Annotated[SearchWords, Query(description="a code (10 01 02, 1001) or words")] = "",
    entries_only: bool = True,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[LowCodeRead]:
    """Search the European List of Waste by code or by words, in French or English: the official
    labels' words and the words practitioners use ("palettes", "fly ash"), best first."""
    rows = find_low_codes(session, q, entries_only=entries_only, limit=limit)
    return [LowCodeRead.model_validate(r, from_attributes=True) for r in rows]


@router.get(
    "/reference/operations", response_model=list[OperationRead], openapi_extra={"x-public": True}
)
def operations(session: SessionDep) -> list[OperationRead]:
    return [
        OperationRead.model_validate(r, from_attributes=True)
        for r in service.list_operations(session)
    ]
