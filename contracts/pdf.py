"""A contract document rendered to PDF with WeasyPrint: every clause, then the evidence page
with one empty signature field per signing role."""

from __future__ import annotations

from contracts.document import ContractDocument


def render_pdf(doc: ContractDocument, locale: str = "fr") -> bytes:
    """The PDF in French (or English with locale="en"), with the empty signature fields of
    SIGNATURE_FIELDS placed in the evidence page's boxes."""
    raise NotImplementedError
