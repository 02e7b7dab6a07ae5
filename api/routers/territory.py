"""The territory's protected exchange figures, public: the latest yearly release, as frozen."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SessionDep
from api.errors import error_response
from marketplace.territory.schemas import FiguresRead
from marketplace.territory.service import latest_read

router = APIRouter(tags=["territory"])
# No id in the input, so api/openapi.py cannot infer this 404: until a first year is released.
NOT_RELEASED = error_response("No exchange figures have been released yet")


@router.get(
    "/territory/figures",
    response_model=FiguresRead,
    openapi_extra={"x-public": True},
    responses={404: NOT_RELEASED},
)
def figures(session: SessionDep) -> FiguresRead:
    """The latest release of what the territory exchanges: the contracts signed in the
    year, quantities delivered per unit and material family. Only the cells that pass business-
    statistics secrecy are there (a suppressed one is null, or its family left out); the figures
    are computed once per closed year and never change. 404 until a first year is released."""
    return latest_read(session)
