"""The rule for a listing's public text: it is published as its owner wrote it, or not at all.

Masking a name leaves a hole that gives the name away (« [masqué] fatale industrielle » for
*Chaleur Urbaine*), so a title or description that names or locates the company
(privacy.scrubbing) is refused with a message saying what to rewrite, and the listing waits until
the owner (or the facilitator, for an import) has rewritten it. The message never quotes the
offending text: import reports keep no cell values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import Invalid
from privacy.scrubbing import identifying_kinds

# What to remove, per kind found (privacy.scrubbing.KINDS); the web pages translate these words
# (web/forms.py), the API answers in English like every service message.
WHAT = {
    "identifier": "the company number (SIREN, SIRET or VAT)",
    "iban": "the bank account number (IBAN)",
    "phone": "the phone number",
    "email": "the e-mail address",
    "url": "the web address",
    "coordinates": "the GPS coordinates",
    "postcode": "the postcode",
    "name": "the name of your company, a brand, a site, its town or a contact (in any spelling)",
    "person": "the person's name",
}
# The fields, as the public card calls them (a flow's label, a pooled offer's title).
WHERE = {"label": "title", "title": "title", "description": "description"}


@dataclass(frozen=True)
class Rewrite:
    """One field of the flow that may not be public as it is, and what it must lose."""

    field: str  # "label" (a pool's "title") or "description"
    kinds: tuple[str, ...]

    def reasons(self) -> list[str]:
        return [f"remove {WHAT[kind]} from the {WHERE[self.field]}" for kind in self.kinds]


class TextNotPublic(Invalid):
    """A title or description that would name or locate its company: nothing was changed."""

    def __init__(self, rewrites: Sequence[Rewrite]) -> None:
        super().__init__(
            "; ".join(reason for rewrite in rewrites for reason in rewrite.reasons()),
            field=rewrites[0].field,
            extra={"rewrite": [{"field": r.field, "remove": list(r.kinds)} for r in rewrites]},
        )
        self.rewrites = tuple(rewrites)

    @property
    def name(self) -> str:
        # Clients handle it as any other refused input.
        return "Invalid"


def require_public_text(
    label: str, description: str, deny: Sequence[str], *, label_field: str = "label"
) -> None:
    """Raise ``TextNotPublic`` unless both texts may be shown to the public as they are.

    ``deny`` holds the company's names (companies.service.deny_terms)."""
    rewrites = [
        Rewrite(field, tuple(kinds))
        for field, text in ((label_field, label), ("description", description))
        if (kinds := identifying_kinds(text, deny))
    ]
    if rewrites:
        raise TextNotPublic(rewrites)
