"""What every page owes a keyboard and a low-vision reader: a skip link first in the page, to
the main content; text colours of at least 4.5:1 on the backgrounds they sit on (WCAG 2.1 AA)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

CSS = Path(__file__).resolve().parents[1] / "web" / "static" / "app.css"
# Colours used for text, and the backgrounds they are shown on.
TEXT = ("--ink", "--ink-soft", "--muted", "--accent-dark", "--danger")
BACKGROUNDS = ("--paper", "--ground")


def _colours() -> dict[str, str]:
    return dict(re.findall(r"(--[a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;", CSS.read_text()))


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_text_colours_reach_aa_contrast_on_every_background() -> None:
    colours = _colours()
    assert contrast("#000000", "#ffffff") > 20 and contrast("#777777", "#ffffff") < 4.5
    weak = [
        (text, ground, round(contrast(colours[text], colours[ground]), 2))
        for text in TEXT
        for ground in BACKGROUNDS
        if contrast(colours[text], colours[ground]) < 4.5
    ]
    assert weak == []


def test_the_first_link_of_a_page_skips_to_its_content(client: TestClient) -> None:
    assert "Aller au contenu" in client.get("/catalogue").text
    for path in ("/", "/login", "/catalogue", "/catalogue?lang=en"):
        page = client.get(path)
        assert page.status_code == 200, path
        body = page.text.split("<body", 1)[1]
        first_link = re.search(r"<a\b[^>]*>", body)
        assert first_link is not None and 'href="#main"' in first_link.group(0), path
        assert 'id="main"' in body
    assert "Skip to the content" in client.get("/catalogue?lang=en").text
