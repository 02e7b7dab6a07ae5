"""Territory import (placeholder until the import lands)."""

from fastapi import APIRouter

router = APIRouter(tags=["imports"])
