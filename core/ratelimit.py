"""Rate limiting: Redis when configured, else in-process.

Two shapes of limit. Catalogue reads use a fixed window per client and minute (one counter, cheap
on every read). Login failures use a sliding window (the timestamps of the failures themselves):
a refusal lasts only until enough failures have aged out of the window, so nobody is locked out
for good, and the window does not reopen all at once at a minute's edge for a guesser to use.

``SYMBIOSE_RATE_LIMIT_URL`` set to a ``redis://`` URL shares the counters between every worker and
machine; without it each process counts on its own (fine for one process, the embedded default).
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from collections import deque
from functools import lru_cache
from typing import Any

from core.errors import RateLimited as RateLimited  # what callers catch
from core.errors import TooManySearches
from core.settings import get_settings

log = logging.getLogger("symbiose.ratelimit")

WINDOW_SECONDS = 60
_PREFIX = "symbiose:ratelimit:"
# In-process sliding windows kept at most; past it the stalest keys go first.
_MAX_SLIDING_KEYS = 100_000

_lock = threading.Lock()
_counts: dict[str, int] = {}
_window_of_counts = -1
_events: dict[str, deque[float]] = {}


def _now() -> float:
    return time.time()


def _url(url: str | None) -> str:
    return get_settings().rate_limit_url if url is None else url


def hit(client_key: str, limit: int, url: str | None = None) -> None:
    """Count one request of ``client_key`` in this minute; past ``limit``, raise RateLimited."""
    now = _now()
    window = int(now // WINDOW_SECONDS)
    url = _url(url)
    count = _count_in_redis(url, client_key, window) if url.startswith("redis") else None
    if count is None:
        count = _count_in_process(client_key, window)
    if count > limit:
        retry = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
        raise TooManySearches(retry_after=retry, seconds=retry)


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


# --- sliding windows (login failures) -----------------------------------------------------------


def retry_after(key: str, limit: int, window: float, url: str | None = None) -> int | None:
    """Seconds until ``key`` may act again when it has ``limit`` events within the last
    ``window`` seconds, else None. Checking records nothing: only failures are recorded."""
    now = _now()
    url = _url(url)
    times = _window_in_redis(url, key, now, window) if url.startswith("redis") else None
    if times is None:
        times = _window_in_process(key, now, window)
    if len(times) < limit:
        return None
    # Free again once all but limit - 1 events have aged out of the window.
    oldest_to_expire = times[len(times) - limit]
    return max(1, math.ceil(oldest_to_expire + window - now))


def record(key: str, window: float, url: str | None = None) -> None:
    """Remember one event of ``key`` (a failed login) for ``window`` seconds."""
    now = _now()
    url = _url(url)
    if url.startswith("redis") and _record_in_redis(url, key, now, window):
        return
    with _lock:
        if key not in _events and len(_events) >= _MAX_SLIDING_KEYS:
            _forget_stalest()
        _events.setdefault(key, deque()).append(now)


def _window_in_process(key: str, now: float, window: float) -> list[float]:
    with _lock:
        times = _events.get(key)
        if times is None:
            return []
        while times and times[0] <= now - window:
            times.popleft()
        if not times:
            del _events[key]
            return []
        return list(times)


def _forget_stalest() -> None:
    # Called under _lock when the table is full: drop the tenth of keys whose last event is oldest.
    by_age = sorted(_events, key=lambda k: _events[k][-1] if _events[k] else 0.0)
    for key in by_age[: max(1, len(by_age) // 10)]:
        del _events[key]


def _window_in_redis(url: str, key: str, now: float, window: float) -> list[float] | None:
    name = f"{_PREFIX}sliding:{key}"
    try:
        pipeline = _redis_client(url).pipeline()
        pipeline.zremrangebyscore(name, "-inf", now - window)
        pipeline.zrange(name, 0, -1, withscores=True)
        _, members = pipeline.execute()
        return [float(score) for _, score in members]
    except Exception as exc:  # Redis down: fall back to this process's own counts
        log.warning("rate limit store unavailable (%s), counting in-process", type(exc).__name__)
        return None


def _record_in_redis(url: str, key: str, now: float, window: float) -> bool:
    name = f"{_PREFIX}sliding:{key}"
    try:
        pipeline = _redis_client(url).pipeline()
        # A random member: two failures in the same microsecond are still two.
        pipeline.zadd(name, {f"{now}:{secrets.token_hex(4)}": now})
        pipeline.expire(name, math.ceil(window) + 1)
        pipeline.execute()
        return True
    except Exception as exc:
        log.warning("rate limit store unavailable (%s), counting in-process", type(exc).__name__)
        return False


def reset() -> None:
    """Forget the in-process counts (tests)."""
    global _window_of_counts
    with _lock:
        _counts.clear()
        _events.clear()
        _window_of_counts = -1
