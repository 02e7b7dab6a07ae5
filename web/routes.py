"""Every page router of the web UI, gathered so mount_web includes them in one place."""

from fastapi import APIRouter

from web import (
    pages_alerts,
    pages_auth,
    pages_catalogue,
    pages_companies,
    pages_company,
    pages_console,
    pages_contracts,
    pages_flows,
    pages_help,
    pages_import,
    pages_introductions,
    pages_landing,
    pages_listings,
    pages_matching,
    pages_pools,
    pages_sites,
)

router = APIRouter(include_in_schema=False)
for module in (
    pages_auth,
    pages_company,
    pages_sites,
    pages_flows,
    pages_companies,
    pages_import,
    pages_catalogue,
    pages_listings,
    pages_pools,
    pages_alerts,
    pages_matching,
    pages_introductions,
    pages_console,
    pages_contracts,
    pages_landing,
    pages_help,
):
    router.include_router(module.router)
