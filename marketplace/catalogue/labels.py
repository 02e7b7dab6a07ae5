"""Reference labels the public view needs (LoW, départements, régions), read once per process."""

from __future__ import annotations

from functools import lru_cache

from core.reference.loader import low_rows, read_csv


@lru_cache
def low_labels() -> dict[str, tuple[str, str]]:
    """Compact code (chapter, subchapter or entry) → (French, English) label."""
    return {r["code"]: (r["description_fr"], r["description_en"]) for r in low_rows()}


@lru_cache
def departement_names() -> dict[str, str]:
    return {d["code"]: d["nom"] for d in read_csv("departements.csv")}


@lru_cache
def region_names() -> dict[str, str]:
    return {d["region_code"]: d["region_nom"] for d in read_csv("departements.csv")}


def low_label(code: str | None, locale: str = "fr") -> str | None:
    if not code:
        return None
    labels = low_labels().get(code)
    if labels is None:
        return None
    return labels[0] if locale == "fr" else labels[1]
