"""« Mises en relation »: a member's inbox (its interests, and those proposed to its company),
one introduction's page (the other side's anonymized card, messages, and after the reveal its
identity, contacts and sites), the buttons its state allows, and « Exprimer un intérêt » from a
listing or a suggested match."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from core.errors import DomainError
from marketplace.introductions import service
from marketplace.introductions.schemas import IntroductionCreate, MessageCreate
from marketplace.introductions.states import Party
from web.contracts import contract_of_introduction
from web.forms import SubmittedForm, explain, optional_text, text, validation_errors
from web.i18n import N_, page_locale, page_translator
from web.introductions import IntroductionView, messages_of, view_of
from web.security import COMPANY_PAGES, CurrentViewer, DbSession, Viewer
from web.templating import render

router = APIRouter(include_in_schema=False, dependencies=COMPANY_PAGES)

# Any other word in the path is a page that does not exist (404).
ActionName = Literal["accept", "decline", "withdraw"]
ACTIONS = {"accept": service.accept, "decline": service.decline, "withdraw": service.withdraw}
NOTICES = {
    "accept": "introduction-accepted",
    "decline": "introduction-declined",
    "withdraw": "introduction-withdrawn",
}
INTEREST_FIELDS = ("listing_id", "match_id", "requester_flow_id")


@router.get("/introductions")
def inbox_page(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    asked: list[IntroductionView] = []
    proposed: list[IntroductionView] = []
    for intro, party in service.list_introductions(session, viewer.actor):
        view = view_of(session, viewer.actor, intro, party, locale, translate)
        (asked if party == Party.REQUESTER else proposed).append(view)
    return render(request, "introductions.html", {"asked": asked, "proposed": proposed})


def _detail(
    request: Request,
    session: Session,
    viewer: Viewer,
    introduction_id: uuid.UUID,
    *,
    body: str = "",
    error: str = "",
) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    intro, party = service.get_introduction(session, viewer.actor, introduction_id)
    view = view_of(session, viewer.actor, intro, party, locale, translate, with_counterpart=True)
    context: dict[str, Any] = {
        "intro": view,
        "messages": messages_of(session, viewer.actor, intro.id, party, locale, translate),
        "body": body,
        "error": error,
        # Once the facilitator drafted it: the two parties reach the contract from here.
        "contract_id": contract_of_introduction(session, intro.id, viewer.actor.company_id)
        if intro.state == "revealed" and party != Party.FACILITATOR
        else None,
    }
    return render(request, "introduction.html", context, status_code=422 if error else 200)


@router.get("/introductions/{introduction_id}")
def introduction_page(
    introduction_id: uuid.UUID, request: Request, session: DbSession, viewer: CurrentViewer
) -> Response:
    return _detail(request, session, viewer, introduction_id)


@router.post("/introductions")
def express_interest(
    request: Request, session: DbSession, viewer: CurrentViewer, form: SubmittedForm
) -> Response:
    """« Exprimer un intérêt », from a listing's page or a suggested match."""
    translate = page_translator(request)
    values = {name: optional_text(form, name) for name in INTEREST_FIELDS}
    try:
        data = IntroductionCreate.model_validate(values)
    except ValidationError as exc:
        # A tampered form: the field at fault and why, nothing changed.
        lines = [f"{name}: {why}" for name, why in validation_errors(exc, translate).items()]
        return _refused(request, " ".join(lines))
    intro = service.express(session, viewer.actor, data)
    return RedirectResponse(f"/introductions/{intro.id}?notice=interest-expressed", status_code=303)


def _refused(request: Request, message: str) -> Response:
    translate = page_translator(request)
    context = {"status": 422, "title": translate(N_("Invalid data")), "message": message}
    return render(request, "error.html", context, status_code=422)


@router.post("/introductions/{introduction_id}/messages")
def post_message(
    introduction_id: uuid.UUID,
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    form: SubmittedForm,
) -> Response:
    translate = page_translator(request)
    body = text(form, "body")
    try:
        data = MessageCreate.model_validate({"body": body})
        service.post_message(session, viewer.actor, introduction_id, data.body)
    except ValidationError as exc:
        error = " ".join(validation_errors(exc, translate).values())
    except DomainError as exc:
        if exc.status_code != 422:
            raise
        session.rollback()
        error = explain(exc, translate)
    else:
        return RedirectResponse(
            f"/introductions/{introduction_id}?notice=message-sent#messages", status_code=303
        )
    return _detail(request, session, viewer, introduction_id, body=body, error=error)


@router.post("/introductions/{introduction_id}/{action}")
def change(
    introduction_id: uuid.UUID, action: ActionName, session: DbSession, viewer: CurrentViewer
) -> Response:
    ACTIONS[action](session, viewer.actor, introduction_id)
    return RedirectResponse(
        f"/introductions/{introduction_id}?notice={NOTICES[action]}", status_code=303
    )
