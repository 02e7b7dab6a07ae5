"""The address gateway: a member's typed address to positions, through the national address service
(Base Adresse Nationale geocoder), when the deployment names one (SYMBIOSE_ADDRESS_SERVICE_URL).

The only module that talks to that service. The address is the member's own site's, but still
identity data: it is neither stored nor logged here, and httpx's own log line of the request (which
quotes its URL, so the address) is dropped.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from core.settings import get_settings

# Short: the member is waiting on a form, and a slow answer is no better than none.
TIMEOUT_SECONDS = 3.0
SUGGESTIONS = 5
# The service refuses shorter queries; the form asks for at least this many characters too.
MIN_QUERY_CHARS = 3
MAX_QUERY_CHARS = 200


@dataclass(frozen=True)
class AddressSuggestion:
    label: str
    latitude: float
    longitude: float
    postcode: str
    city: str
    context: str


class AddressSearchFailed(Exception):
    """The service could not be reached, was too slow or answered something unreadable."""


class AddressSearch(Protocol):
    def search(self, query: str) -> list[AddressSuggestion]: ...


class _DropRequestsTo(logging.Filter):
    """Drops httpx's "HTTP Request: GET <url>" records for the address service's URLs."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not any(str(arg).startswith(self.base_url) for arg in args)


_filtered: set[str] = set()


def _normalised(url: str) -> str:
    """The URL as httpx writes it in its log line (scheme and host in lower case, no default
    port): the filter compares that line with it, so "HTTP://Host:443" in the setting must not
    let the address through."""
    try:
        return str(httpx.URL(url.strip())).rstrip("/")
    except Exception:  # not a URL at all: the call fails too, and is "no answer"
        return url.strip().rstrip("/")


class BanAddressSearch:
    """The BAN geocoder's API: GET {url}/search/?q=...&limit=5, a GeoJSON FeatureCollection."""

    def __init__(self, base_url: str, timeout: float | None = None) -> None:
        self.base_url = _normalised(base_url)
        self.timeout = TIMEOUT_SECONDS if timeout is None else timeout
        if self.base_url not in _filtered:
            logging.getLogger("httpx").addFilter(_DropRequestsTo(self.base_url))
            _filtered.add(self.base_url)

    def search(self, query: str) -> list[AddressSuggestion]:
        # One attempt, no retry: the member types again, which is the retry.
        try:
            response = httpx.get(
                f"{self.base_url}/search/",
                params={"q": query, "limit": SUGGESTIONS},
                timeout=self.timeout,
                follow_redirects=False,
            )
        except Exception as exc:  # any failure of the call is "no answer"
            # Its type only: an httpx message may quote the URL, and so the address.
            raise AddressSearchFailed(type(exc).__name__) from None
        if response.status_code != 200:
            raise AddressSearchFailed(f"status {response.status_code}")
        try:
            features = response.json()["features"]
            return [_suggestion(feature) for feature in features[:SUGGESTIONS]]
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise AddressSearchFailed(f"unreadable answer ({type(exc).__name__})") from None


def _suggestion(feature: dict[str, Any]) -> AddressSuggestion:
    longitude, latitude = (float(v) for v in feature["geometry"]["coordinates"][:2])
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        raise ValueError("not a position")
    properties = feature["properties"]
    return AddressSuggestion(
        label=str(properties["label"])[:MAX_QUERY_CHARS],
        latitude=latitude,
        longitude=longitude,
        postcode=str(properties.get("postcode", ""))[:10],
        city=str(properties.get("city", ""))[:100],
        context=str(properties.get("context", ""))[:MAX_QUERY_CHARS],
    )


def address_search() -> AddressSearch | None:
    """The deployment's address gateway, None when it has none (the default)."""
    url = get_settings().address_service_url.strip()
    return BanAddressSearch(url) if url else None
