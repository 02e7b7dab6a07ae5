"""Every page of the demo, as each role reaches it, at 375 px and 1280 px, in French and English,
in headless Chromium: nothing wider than the screen, nothing scrolling sideways inside the page
(a table reflows into cards rather than scroll), and axe-core (from the npm registry) finding no
serious or critical WCAG 2.1 A/AA violation. A full-page screenshot of each visit goes to
tests/artifacts/sweep/<role>-<page>-<lang>-<width>.png for a human to look at.

The demo is loaded once for the module and the application served once; each (role, language,
width) has a browser context of its own, signed in once."""

from __future__ import annotations

import html
import itertools
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from marketplace.demo.loader import load_demo
from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT, serving
from tests.conftest import empty_database
from tests.test_web import login
from tests.test_web_french import SKIPPED, UUID, _demo_users
from web.i18n import LANG_COOKIE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ARTIFACTS / "sweep"
ROLES = ("visitor", "company_admin", "member", "facilitator")
LANGS = ("fr", "en")
WIDTHS = (375, 1280)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
GRAVE = ("serious", "critical")
PAGES_PER_ROLE = 60
# The page of a listing no longer available (the same for an unknown id).
GONE_LISTING = "/catalogue/00000000-0000-4000-8000-000000000000"
# Pages no link leads to from the start pages, or that only a mail leads to.
EXTRA_PAGES = {
    "visitor": [
        "/password/forgot",
        "/password/reset/not-a-valid-token",
        "/no-such-page",
        GONE_LISTING,
    ],
    "member": [GONE_LISTING],
}

# The document's width against the window's, and what runs past the window's right edge: the
# elements that overflow while none of their children does (the culprits, not their ancestors).
OVERFLOW = """() => {
  const width = window.innerWidth;
  const culprits = [];
  for (const element of document.body.querySelectorAll('*')) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) continue;
    const child = [...element.children].some(c => c.getBoundingClientRect().right > width + 1);
    if (!child) culprits.push(describe(element) + ' right=' + Math.round(box.right));
  }
  function describe(e) {
    return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
      + (typeof e.className === 'string' && e.className
        ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, culprits: culprits.slice(0, 5)};
}"""

# A box that scrolls sideways inside the page hides its right part (the « Retirer » of a table).
SIDEWAYS = """() => {
  const found = [];
  for (const element of document.body.querySelectorAll('*')) {
    const overflow = getComputedStyle(element).overflowX;
    const scrolls = overflow === 'auto' || overflow === 'scroll';
    if (scrolls && element.scrollWidth > element.clientWidth + 1) {
      const name = String(element.className).trim().replace(/\\s+/g, '.');
      found.push(element.tagName.toLowerCase() + '.' + name
        + ' ' + element.scrollWidth + '>' + element.clientWidth);
    }
  }
  return found;
}"""

# A data table on a narrow screen is a stack of cards: each cell must carry its column's name
# (another table must fit the screen as it is, which the width check sees).
UNLABELLED = """() => {
  const found = [];
  for (const table of document.querySelectorAll('table.data')) {
    const heads = [...table.querySelectorAll('thead th')];
    for (const row of table.querySelectorAll('tbody tr')) {
      [...row.cells].forEach((cell, index) => {
        const head = heads[index];
        const named = head && head.innerText.trim() && !head.querySelector('.visually-hidden');
        if (cell.tagName === 'TD' && named && !cell.dataset.label) {
          found.push('a cell of column « ' + head.innerText.trim() + ' » without data-label');
        }
      });
    }
  }
  return [...new Set(found)];
}"""

AXE_RUN = """async (tags) => {
  const result = await axe.run(
    document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
}"""


@dataclass
class Demo:
    url: str
    accounts: dict[str, dict[str, str]]
    pages: dict[str, list[str]]


def discover(client: TestClient, start: list[str]) -> list[str]:
    """The site's pages reachable from `start` by its links, one of each shape (/flows/{id}/edit...:
    one is enough to see its layout); full pages only, not the fragments htmx swaps in."""
    shapes: set[str] = set()
    queue, visited, pages = deque(start), set[str](), list[str]()
    while queue and len(pages) < PAGES_PER_ROLE:
        path = queue.popleft()
        shape = UUID.sub("{id}", urlsplit(path).path)
        if path in visited or shape in shapes:
            continue
        visited.add(path)
        response = client.get(path)
        if "<html" not in response.text[:200]:
            continue
        shapes.add(shape)
        pages.append(path)
        for link in re.findall(r'href="(/[^"#]*)"', response.text):
            link = html.unescape(link)
            if not SKIPPED.search(link) and link not in visited:
                queue.append(link)
    return pages


@pytest.fixture(scope="module")
def demo(migrated_database: sa.Engine) -> Iterator[Demo]:
    from api.app import app

    try:
        load_demo()
        accounts = {row["role"]: row for row in _demo_users()}
        pages: dict[str, list[str]] = {}
        for role in ROLES:
            with TestClient(app) as client:
                if role != "visitor":
                    login(client, accounts[role]["email"], accounts[role]["password"])
                pages[role] = discover(client, ["/", "/catalogue"]) + EXTRA_PAGES.get(role, [])
        # The server, another process, reads the demo from the same database.
        with serving() as url:
            yield Demo(url, accounts, pages)
    finally:
        empty_database(migrated_database)


@pytest.fixture
def clean_database() -> Iterator[None]:
    """The demo stays for the whole module (the module's fixture empties the database after)."""
    yield


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_context(
    chromium: Any, demo: Demo, width: int, role: str, lang: str = "fr", with_axe: bool = False
) -> Any:
    """A browser context at `width` in `lang`, signed in as `role` (its one page open)."""
    context = chromium.new_context(
        viewport={"width": width, "height": 800}, locale="fr-FR" if lang == "fr" else "en-GB"
    )
    if with_axe:
        # Evaluated by the browser itself, so the Content-Security-Policy (script-src 'self') of
        # the pages stays as it is in production.
        context.add_init_script(path=str(AXE))
    context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": demo.url}])
    page = context.new_page()
    if role != "visitor":
        account = demo.accounts[role]
        page.goto(f"{demo.url}/login")
        page.fill("input[name=email]", account["email"])
        page.fill("input[name=password]", account["password"])
        page.click("main button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
    return context


def page_name(path: str) -> str:
    if path == GONE_LISTING:
        return "catalogue-gone"
    shape = UUID.sub("id", urlsplit(path).path).strip("/")
    return re.sub(r"[^a-z0-9]+", "-", shape.lower()).strip("-") or "home"


def test_the_discovered_pages_cover_each_roles_site(demo: Demo) -> None:
    """The sweep is only as good as its page list: each role's main pages are in it."""
    shapes = {
        role: {UUID.sub("{id}", urlsplit(p).path) for p in pages}
        for role, pages in demo.pages.items()
    }
    assert {"/", "/catalogue", "/login", "/catalogue/{id}", "/password/forgot"} <= shapes["visitor"]
    assert {
        "/flows",
        "/flows/new",
        "/flows/{id}/edit",
        "/listings",
        "/sites",
        "/company",
    } <= shapes["company_admin"]
    assert {"/introductions", "/introductions/{id}", "/contracts", "/contracts/{id}"} <= shapes[
        "company_admin"
    ]
    assert {"/notifications", "/saved-searches"} <= shapes["member"]
    assert {"/companies", "/companies/{id}", "/pools", "/import", "/plan"} <= shapes["facilitator"]
    assert {"/console/introductions", "/console/introductions/{id}"} <= shapes["facilitator"]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_fits_the_screen_and_passes_axe(
    demo: Demo, chromium: Any, role: str, lang: str, width: int
) -> None:
    assert AXE.exists(), "axe-core is missing: run `npm install` (make does)"
    context = open_context(chromium, demo, width, role, lang, with_axe=True)
    try:
        page = context.pages[0]
        problems: list[str] = []
        for path in demo.pages[role]:
            response = page.goto(f"{demo.url}{path}")
            assert page.evaluate("document.documentElement.lang") == lang, path
            where = f"{role} {lang} {width}px {path}"
            if response is None or response.status >= 500:
                problems.append(f"{where}: no page ({response and response.status})")
            fit = page.evaluate(OVERFLOW)
            if fit["scrollWidth"] > fit["width"]:
                problems.append(
                    f"{where}: the page is {fit['scrollWidth']} px wide for a {fit['width']} px "
                    f"window; widest: {fit['culprits']}"
                )
            problems += [f"{where}: scrolls sideways: {box}" for box in page.evaluate(SIDEWAYS)]
            problems += [f"{where}: {cell}" for cell in page.evaluate(UNLABELLED)]
            for violation in page.evaluate(AXE_RUN, AXE_TAGS):
                if violation["impact"] in GRAVE:
                    problems.append(
                        f"{where}: axe {violation['id']} ({violation['impact']}: "
                        f"{violation['help']}) at {violation['targets']}"
                    )
            page.screenshot(
                path=str(SHOTS / f"{role}-{page_name(path)}-{lang}-{width}.png"), full_page=True
            )
        assert problems == [], "\n".join(problems)
    finally:
        context.close()


# --- focus order ---------------------------------------------------------------------------------

# What a keyboard must reach, in the page's order: each visible control, once (one radio button a
# group: the checked one, else the first). Each is numbered in data-tab-stop for the walk to name.
TAB_STOPS = """() => {
  const selector =
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]';
  const stops = [], groups = new Set();
  for (const element of document.querySelectorAll(selector)) {
    if (element.disabled || element.tabIndex < 0 || element.closest('[inert]')) continue;
    if (element.getClientRects().length === 0) continue;
    if (getComputedStyle(element).visibility === 'hidden') continue;
    if (element.matches('details:not([open]) *:not(summary)')) continue;
    if (element.type === 'radio') {
      const group = element.form ? element.form.elements[element.name] : [element];
      const chosen = [...group].find(r => r.checked) || group[0];
      if (groups.has(element.name) || chosen !== element) continue;
      groups.add(element.name);
    }
    element.dataset.tabStop = stops.length;
    stops.push(describe(element));
  }
  function describe(e) {
    const text = (e.innerText || e.value || e.name || e.id || '').trim().slice(0, 40);
    return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' « ' + text + ' »';
  }
  const positive = [...document.querySelectorAll('[tabindex]')].filter(e => e.tabIndex > 0);
  return {stops, positive: positive.length};
}"""

# The focused element: its number, its box, and whether a focus ring shows.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e), box = e.getBoundingClientRect();
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const ring = outline || style.boxShadow !== 'none';
  const text = (e.innerText || e.name || '').trim().slice(0, 40);
  return {stop: e.dataset.tabStop === undefined ? null : Number(e.dataset.tabStop),
          what: e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + text,
          top: box.top + window.scrollY, bottom: box.bottom + window.scrollY,
          left: box.left + window.scrollX, right: box.right + window.scrollX, ring};
}"""


def tab_through(page: Any) -> list[str]:
    """Tabs from the top of the page to its end: what is wrong with the order, the reach and the
    focus ring (nothing when all is right)."""
    found = page.evaluate(TAB_STOPS)
    stops: list[str] = found["stops"]
    assert len(stops) > 3, f"no controls found on {page.url}: the walk would prove nothing"
    problems = []
    if found["positive"]:
        problems.append(f"{found['positive']} elements with a positive tabindex")
    visited: list[dict[str, Any]] = []
    for _ in range(len(stops) + 5):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None or (visited and focused["stop"] == visited[0]["stop"]):
            break
        visited.append(focused)
    order = [f["stop"] for f in visited]
    if order != list(range(len(stops))):
        reached = [
            stops[i] if i is not None else f"(unexpected) {f['what']}"
            for i, f in zip(order, visited, strict=True)
        ]
        problems.append(f"focus order {order} over {len(stops)} stops: {reached}")
    problems += [f"no visible focus ring on {f['what']}" for f in visited if not f["ring"]]
    for before, after in itertools.pairwise(visited):
        same_column = after["left"] < before["right"] and before["left"] < after["right"]
        if same_column and after["bottom"] <= before["top"]:
            problems.append(f"focus goes up the page: {before['what']} then {after['what']}")
    return problems


@pytest.mark.parametrize(
    ("role", "path", "width"),
    [
        ("visitor", "/", 1280),
        ("visitor", "/", 375),
        ("visitor", "/catalogue?direction=offer&regularity=continuous", 1280),
        ("company_admin", "/flows/new", 1280),
        ("company_admin", "/flows/new", 375),
    ],
)
def test_the_keyboard_reaches_every_control_once_in_reading_order(
    demo: Demo, chromium: Any, role: str, path: str, width: int
) -> None:
    from playwright.sync_api import expect

    context = open_context(chromium, demo, width, role)
    try:
        page = context.pages[0]
        page.goto(f"{demo.url}{path}")
        assert tab_through(page) == []
        # The skip link comes first and takes the keyboard to the page's content.
        page.goto(f"{demo.url}{path}")
        page.keyboard.press("Tab")
        skip = page.locator("a.skip-link")
        expect(skip).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("main#main")).to_be_focused()
        page.keyboard.press("Tab")
        assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
    finally:
        context.close()


def test_the_folded_menu_opens_and_closes_from_the_keyboard(demo: Demo, chromium: Any) -> None:
    from playwright.sync_api import expect

    context = open_context(chromium, demo, 375, "member")
    try:
        page = context.pages[0]
        page.goto(f"{demo.url}/flows")
        toggle, menu = page.locator("#menu-toggle"), page.locator("#mainnav")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(menu).to_be_hidden()
        assert tab_through(page) == [], "the folded menu's links are not tab stops"
        page.goto(f"{demo.url}/flows")
        for _ in range(3):  # the skip link, the brand, the menu's button
            page.keyboard.press("Tab")
        expect(toggle).to_be_focused()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(menu).to_be_visible()
        links = menu.get_by_role("link")
        for index in range(links.count()):
            page.keyboard.press("Tab")
            expect(links.nth(index)).to_be_focused()
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()
        expect(toggle).to_be_focused()
        page.keyboard.press("Space")
        expect(menu).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(SHOTS / "member-menu-open-fr-375.png"), full_page=True)
    finally:
        context.close()


def test_without_script_the_menu_is_shown_whole(demo: Demo, chromium: Any) -> None:
    context = chromium.new_context(
        viewport={"width": 375, "height": 800}, java_script_enabled=False
    )
    try:
        page = context.new_page()
        account = demo.accounts["member"]
        page.goto(f"{demo.url}/login")
        page.fill("input[name=email]", account["email"])
        page.fill("input[name=password]", account["password"])
        page.click("main button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        assert page.locator("#menu-toggle").is_hidden()
        links = page.locator("#mainnav a")
        assert links.count() > 5
        for index in range(links.count()):
            assert links.nth(index).is_visible()
    finally:
        context.close()
