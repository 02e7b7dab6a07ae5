"""Domain events (core/events.py): how a lower domain reaches a higher one without importing it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core.events import Event, UnhandledEvent, emit, handlers_of, handles
from marketplace.catalogue.events import LISTINGS_CHANGED
from marketplace.catalogue.models import Listing
from marketplace.companies.events import SITE_MOVED
from marketplace.flows.events import FLOW_CHANGED, FLOW_CREATED
from marketplace.flows.models import Flow
from tests.factories import create_flow_row, create_site_row, create_tenant

ROOT = Path(__file__).resolve().parent.parent


def test_an_event_nobody_handles_fails_loudly(session: Session) -> None:
    """A process that never loaded the handlers must not silently leave listings stale."""
    with pytest.raises(UnhandledEvent, match=r"tests\.nobody_listens"):
        emit(session, Event("tests.nobody_listens", "nothing"))


def test_handlers_receive_the_session_and_arguments_in_order(session: Session) -> None:
    heard: list[tuple[str, object]] = []
    event = Event("tests.ordered", "value: int")

    @handles(event)
    def first(s: Session, value: int) -> None:
        heard.append(("first", value))

    @handles(event)
    def second(s: Session, value: int) -> None:
        assert s is session
        heard.append(("second", value))

    handles(event)(first)  # registered again (a reloaded module): replaced, not doubled
    emit(session, event, 7)
    assert heard == [("second", 7), ("first", 7)]


# Each event of the marketplace, by the module that declares it.
EVENTS = {
    FLOW_CHANGED: ("marketplace.flows.events", "FLOW_CHANGED"),
    FLOW_CREATED: ("marketplace.flows.events", "FLOW_CREATED"),
    SITE_MOVED: ("marketplace.companies.events", "SITE_MOVED"),
    LISTINGS_CHANGED: ("marketplace.catalogue.events", "LISTINGS_CHANGED"),
}


@pytest.mark.parametrize("event", list(EVENTS), ids=lambda e: e.name)
def test_every_marketplace_event_has_a_handler_in_every_entry_point(event: Event) -> None:
    """The app, the command line and the worker each load the handlers before any work: a
    fresh interpreter importing only that entry point finds every event handled."""
    assert handlers_of(event), event.name
    module, constant = EVENTS[event]
    for entry in ("api.app", "api.cli", "marketplace.handlers"):
        code = (
            f"import importlib, sys; importlib.import_module({entry!r});"
            "from core.events import handlers_of;"
            f"from {module} import {constant} as e;"
            "sys.exit(0 if handlers_of(e) else 3)"
        )
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False)
        assert done.returncode == 0, f"{entry} leaves {event.name} unhandled"


def test_the_worker_loads_the_handlers_through_its_include_list() -> None:
    from core.worker import celery_app

    assert "marketplace.handlers" in celery_app.conf.include


def test_a_handler_works_in_the_emitters_transaction(client: TestClient, session: Session) -> None:
    """A flow edited through the API: its live listing follows in the same transaction (the
    catalogue's FLOW_CHANGED handler); when the handler refuses (the new label names the
    company, unfit for the public card), the flow's own edit is rolled back with it."""
    tenant = create_tenant(session, "Fonderie Événement SAS")
    site = create_site_row(session, tenant.company, "Site", 50.6, 3.0)
    flow = create_flow_row(session, site, label="Sable de fonderie", quantity=500.0)
    draft = client.post("/api/v1/listings", headers=tenant.headers, json={"flow_id": str(flow.id)})
    assert draft.status_code == 201, draft.text
    listing_id = draft.json()["listing"]["id"]

    edited = client.patch(
        f"/api/v1/flows/{flow.id}", headers=tenant.headers, json={"label": "Sable usagé"}
    )
    assert edited.status_code == 200, edited.text
    session.expire_all()
    listing = session.get(Listing, uuid.UUID(listing_id))
    assert listing is not None and listing.title == "Sable usagé"

    refused = client.patch(
        f"/api/v1/flows/{flow.id}",
        headers=tenant.headers,
        json={"label": "Sable de la Fonderie Événement"},
    )
    assert refused.status_code == 422, refused.text
    session.expire_all()
    assert session.get(Flow, flow.id).label == "Sable usagé"  # type: ignore[union-attr]
    assert session.get(Listing, listing.id).title == "Sable usagé"  # type: ignore[union-attr]
