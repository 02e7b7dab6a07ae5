"""Web pages (placeholder until the web UI lands)."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
