"""In-process domain events: how a lower domain tells a higher one, without importing it.

Domains inside ``marketplace`` are layered (pyproject's import-linter contract): a lower domain
never imports a higher one. When a change below must reach a domain above (a flow edited, so its
listing follows; listings changed, so saved searches are matched), the lower domain declares an
``Event`` and ``emit``s it; the higher domain imports that event (a downward import) and registers
a handler with ``@handles``.

Handlers run synchronously, in the emitter's session and transaction: work that must commit or
roll back with the change (a listing following its flow, the k-anonymity re-check) stays atomic.
Background work is not done in a handler: the handler enqueues a task, which runs after commit.

An event nobody handles is a wiring error, not a no-op: ``emit`` raises ``UnhandledEvent``, so a
process that forgot to load the handlers (``marketplace.handlers``) fails loudly in its first test
instead of silently leaving listings stale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

Handler = Callable[..., None]


@dataclass(frozen=True)
class Event:
    """A named fact a domain announces; ``arguments`` documents what handlers receive after the
    session (the same positional arguments ``emit`` is given)."""

    name: str
    arguments: str


class UnhandledEvent(RuntimeError):
    """An event was emitted with no handler registered: the handlers were never loaded."""


_handlers: dict[str, list[Handler]] = {}


def handles(event: Event) -> Callable[[Handler], Handler]:
    """Register the decorated function as a handler of ``event`` (idempotent on re-import)."""

    def register(handler: Handler) -> Handler:
        registered = _handlers.setdefault(event.name, [])
        key = (handler.__module__, handler.__qualname__)
        # A module imported twice (reloaded in a test) replaces its handler, never doubles it.
        registered[:] = [h for h in registered if (h.__module__, h.__qualname__) != key]
        registered.append(handler)
        return handler

    return register


def emit(session: Session, event: Event, *args: Any) -> None:
    """Run every handler of ``event`` now, in ``session``'s transaction, in registration order."""
    handlers = _handlers.get(event.name)
    if not handlers:
        raise UnhandledEvent(
            f"no handler for event {event.name!r}: import marketplace.handlers at start-up"
        )
    for handler in list(handlers):
        handler(session, *args)


def handlers_of(event: Event) -> list[Handler]:
    """The handlers registered for ``event`` (for start-up checks and tests)."""
    return list(_handlers.get(event.name, ()))
