"""The facilitator's console of introductions: the queue by state, one introduction with both
companies' names (each an audited identity read), the screening note, the decisions the state
table allows the facilitator, and the relay of the two sides' messages."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from core.errors import DomainError
from marketplace.companies.service import get_company, identity_of
from marketplace.introductions import service
from marketplace.introductions.models import ShareState
from marketplace.introductions.schemas import MessageCreate, ScreeningNote
from marketplace.introductions.states import State
from web.contracts import contracts_of_introduction
from web.forms import SubmittedForm, explain, text, validation_errors
from web.i18n import N_, page_locale, page_translator
from web.introductions import messages_of, view_of
from web.security import STAFF_PAGES, CurrentViewer, DbSession, Viewer
from web.templating import render

router = APIRouter(include_in_schema=False, dependencies=STAFF_PAGES)

BASE = "/console/introductions"
# The queue's tabs: each groups the states it names.
QUEUES: dict[str, tuple[str, tuple[State, ...]]] = {
    "screening": (N_("To screen"), (State.INTEREST_EXPRESSED, State.SCREENING)),
    "proposed": (N_("Proposed"), (State.PROPOSED,)),
    "accepted": (N_("Accepted"), (State.ACCEPTED,)),
    "revealed": (N_("Revealed"), (State.REVEALED,)),
    "terminal": (N_("Closed"), (State.DECLINED, State.WITHDRAWN, State.EXPIRED)),
}
# A pool contributor's own answer, shown beside its name.
SHARE_ANSWERS = {
    ShareState.PENDING.value: N_("Awaiting its answer"),
    ShareState.ACCEPTED.value: N_("Accepted its share"),
    ShareState.DECLINED.value: N_("Declined its share"),
}
Queue = Literal["screening", "proposed", "accepted", "revealed", "terminal"]
NoteAction = Literal["screen", "propose"]
PlainAction = Literal["decline", "withdraw"]
NOTICES = {
    "screen": "introduction-screened",
    "propose": "introduction-proposed",
    "decline": "introduction-declined",
    "withdraw": "introduction-withdrawn",
}


@router.get(BASE)
def queue_page(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    queue: Annotated[Queue, Query()] = "screening",
) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    rows = []
    for state in QUEUES[queue][1]:
        for intro, party in service.list_introductions(session, viewer.actor, state.value):
            rows.append(view_of(session, viewer.actor, intro, party, locale, translate))
    tabs = [(key, translate(words)) for key, (words, _states) in QUEUES.items()]
    return render(
        request, "console_introductions.html", {"rows": rows, "tabs": tabs, "queue": queue}
    )


def _detail(
    request: Request,
    session: Session,
    viewer: Viewer,
    introduction_id: uuid.UUID,
    *,
    body: str = "",
    error: str = "",
    note_error: str = "",
) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    intro, party = service.get_introduction(session, viewer.actor, introduction_id)
    view = view_of(session, viewer.actor, intro, party, locale, translate)

    # The facilitator may read identities; each read is an entry of the audit chain.
    def name_of(company_id: uuid.UUID) -> str:
        return identity_of(
            session, viewer.actor, get_company(session, viewer.actor, company_id)
        ).legal_name

    # A pooled offer has one owner per contributor, each with its own answer.
    owners: list[tuple[uuid.UUID, str, str, bool]] = []
    if service.is_pooled(intro):
        for share in service.shares(session, intro):
            answer = translate(SHARE_ANSWERS[share.state])
            accepted = share.state == ShareState.ACCEPTED
            owners.append((share.company_id, name_of(share.company_id), answer, accepted))
    else:
        assert intro.owner_company_id is not None
        owners.append((intro.owner_company_id, name_of(intro.owner_company_id), "", False))
    context: dict[str, Any] = {
        "intro": view,
        "requester": (intro.requester_company_id, name_of(intro.requester_company_id)),
        "owners": owners,
        "pooled": service.is_pooled(intro),
        "messages": messages_of(session, viewer.actor, intro.id, party, locale, translate),
        "body": body,
        "error": error,
        "note_error": note_error,
        # « Rédiger le contrat » once the identities are revealed, then a link to it.
        # By giver: one contract, or for a pooled offer one per contributor who accepted.
        "contracts": contracts_of_introduction(session, intro.id),
    }
    status = 422 if error or note_error else 200
    return render(request, "console_introduction.html", context, status_code=status)


@router.get(BASE + "/{introduction_id}")
def introduction_page(
    introduction_id: uuid.UUID, request: Request, session: DbSession, viewer: CurrentViewer
) -> Response:
    return _detail(request, session, viewer, introduction_id)


def _refusal(exc: DomainError | ValidationError, session: Session, request: Request) -> str:
    translate = page_translator(request)
    if isinstance(exc, ValidationError):
        return " ".join(validation_errors(exc, translate).values())
    if exc.status_code != 422:
        raise exc
    session.rollback()
    return explain(exc, translate)


@router.post(BASE + "/{introduction_id}/messages")
def post_message(
    introduction_id: uuid.UUID,
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    form: SubmittedForm,
) -> Response:
    body = text(form, "body")
    try:
        data = MessageCreate.model_validate({"body": body})
        service.post_message(session, viewer.actor, introduction_id, data.body)
    except (ValidationError, DomainError) as exc:
        error = _refusal(exc, session, request)
        return _detail(request, session, viewer, introduction_id, body=body, error=error)
    return RedirectResponse(
        f"{BASE}/{introduction_id}?notice=message-sent#messages", status_code=303
    )


@router.post(BASE + "/{introduction_id}/{action}")
def decide(
    introduction_id: uuid.UUID,
    action: NoteAction | PlainAction,
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    form: SubmittedForm,
) -> Response:
    """Screen (with the note), propose (the note kept or replaced), decline or withdraw."""
    actor = viewer.actor
    if action in ("screen", "propose"):
        try:
            note = ScreeningNote.model_validate({"note": text(form, "note")}).note
        except ValidationError as exc:
            error = _refusal(exc, session, request)
            return _detail(request, session, viewer, introduction_id, note_error=error)
        if action == "screen":
            service.screen(session, actor, introduction_id, note)
        else:
            service.propose(session, actor, introduction_id, note or None)
    elif action == "decline":
        service.decline(session, actor, introduction_id)
    else:
        service.withdraw(session, actor, introduction_id)
    return RedirectResponse(f"{BASE}/{introduction_id}?notice={NOTICES[action]}", status_code=303)
