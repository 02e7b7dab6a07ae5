"""Every page router of the web UI, gathered so mount_web includes them in one place."""

from fastapi import APIRouter

from web import (
    pages_auth,
    pages_companies,
    pages_company,
    pages_flows,
    pages_import,
    pages_sites,
)

router = APIRouter(include_in_schema=False)
for module in (pages_auth, pages_company, pages_sites, pages_flows, pages_companies, pages_import):
    router.include_router(module.router)
