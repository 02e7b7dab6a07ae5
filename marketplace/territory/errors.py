"""Errors of the territory statistics: the shared hierarchy, re-exported, and one class per case
a user can meet (translated by class in web/messages.py)."""

from core.errors import NotFound

__all__ = ["NotFound"]


class NoFiguresReleased(NotFound):
    message = "no exchange figures have been released yet"
