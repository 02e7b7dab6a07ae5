"""Fixed-window rate limiting per client and minute: Redis when configured, else in-process.

``SYMBIOSE_RATE_LIMIT_URL`` set to a ``redis://`` URL shares the counters between every worker and
machine; without it each process counts on its own (fine for one process, the embedded default).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from functools import lru_cache
from typing import Any

from core.errors import RateLimited

log = logging.getLogger("symbiose.ratelimit")

WINDOW_SECONDS = 60
URL_VARIABLE = "SYMBIOSE_RATE_LIMIT_URL"
_PREFIX = "symbiose:ratelimit:"

_lock = threading.Lock()
_counts: dict[str, int] = {}
_window_of_counts = -1


def _now() -> float:
    return time.time()


def hit(client_key: str, limit: int, url: str | None = None) -> None:
    """Count one request of ``client_key`` in this minute; past ``limit``, raise RateLimited."""
    now = _now()
    window = int(now // WINDOW_SECONDS)
    url = os.environ.get(URL_VARIABLE, "") if url is None else url
    count = _count_in_redis(url, client_key, window) if url.startswith("redis") else None
    if count is None:
        count = _count_in_process(client_key, window)
    if count > limit:
        retry = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
        raise RateLimited(f"too many searches, retry in {retry} s")


def _count_in_process(client_key: str, window: int) -> int:
    global _window_of_counts
    with _lock:
        if window != _window_of_counts:
            # A new minute: every earlier count is stale, so the dict never outgrows one minute.
            _counts.clear()
            _window_of_counts = window
        count = _counts.get(client_key, 0) + 1
        _counts[client_key] = count
        return count


@lru_cache
def _redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def _count_in_redis(url: str, client_key: str, window: int) -> int | None:
    key = f"{_PREFIX}{client_key}:{window}"
    try:
        pipeline = _redis_client(url).pipeline()
        pipeline.incr(key)
        pipeline.expire(key, WINDOW_SECONDS * 2)
        count, _ = pipeline.execute()
        return int(count)
    except Exception as exc:  # Redis down: count in-process rather than refuse every search
        log.warning("rate limit store unavailable (%s), counting in-process", type(exc).__name__)
        return None


def reset() -> None:
    """Forget the in-process counts (tests)."""
    global _window_of_counts
    with _lock:
        _counts.clear()
        _window_of_counts = -1
