"""The contracts package's refusals, each a case of a kind of core.errors."""

from __future__ import annotations

from core.errors import Conflict, Invalid


class NotAPdf(Invalid):
    message = "the file is not a readable PDF: {reason}"


class FieldAlreadySigned(Conflict):
    message = "the signature field {name} is already signed"
