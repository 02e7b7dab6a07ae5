"""Helpers shared by several pages. Pages import these, never one another: each page module stays
a leaf that only routes call into."""

from __future__ import annotations

from sqlmodel import Session

from core.text import collation_key
from marketplace.companies.service import list_sites, site_name
from web.catalogue_form import Choices
from web.security import Viewer, own_company


def own_sites(session: Session, viewer: Viewer | None) -> Choices:
    """The sites a distance may start from: the viewer's company's own, never anyone else's (the
    facilitator has none; visitors neither)."""
    if viewer is None or viewer.actor.company_id is None:
        return []
    company = own_company(session, viewer)
    names = ((str(s.id), site_name(company, s)) for s in list_sites(session, viewer.actor))
    return sorted(names, key=lambda pair: collation_key(pair[1]))
