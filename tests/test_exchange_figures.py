"""What the territory exchanges, on the landing page: a yearly release of protected figures
(marketplace/territory), frozen in one row, appended to the audit chain, and shown from that row
only. Cells pass business-statistics secrecy (at least 3 legal units, none above 85 %, and the
same against whoever is inside the cell: any one or two companies pooling what they know);
suppressed cells are protected from the total by secondary suppression."""

from __future__ import annotations

import itertools
import os
import re
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from core.db import unit_of_work
from marketplace.accounts.models import Role, User
from marketplace.companies.models import Company
from marketplace.exchanges.models import Contract, ContractVersion, Delivery
from marketplace.introductions.models import Introduction
from marketplace.territory.models import FiguresRelease
from marketplace.territory.schemas import ExchangeFigures
from marketplace.territory.secrecy import Exchange, publishable, rounded
from marketplace.territory.service import due_year, latest_release, release_year
from privacy import audit
from privacy.generalisation import FAMILIES
from privacy.models import AuditEntry
from tests.contracts_world import make_terms
from tests.factories import bearer, create_company_row, create_user_row
from tests.members import siren, siret
from tests.symbiose_process import load_demo, postgresql_database, sqlite_url, symbiose
from web.templating import format_number

YEAR = 2025
FLY_ASH = "10 01 02"  # minerals
SWARF = "12 01 01"  # metals
PLASTICS = "07 02 13"  # chemicals (plastics of the organic chemical industry)
_references = itertools.count(1)


@dataclass
class Member:
    company: Company
    admin: User


def member(session: Session, name: str | None = None) -> Member:
    company = create_company_row(session, name)
    return Member(company, create_user_row(session, Role.COMPANY_ADMIN, company))


def members(session: Session, n: int) -> list[Member]:
    return [member(session) for _ in range(n)]


def exchange(
    session: Session,
    giver: Member,
    taker: Member,
    quantities: Sequence[float] = (100.0,),
    *,
    year: int = YEAR,
    low_code: str | None = FLY_ASH,
    unit: str = "t",
    activated: datetime | None = None,
    closed: datetime | None = None,
) -> Contract:
    """An active contract between two companies, countersigned in `year` unless `activated`
    says otherwise, with one delivery per quantity dated in `year`: the rows the exchanges
    services leave after drafting, signing and recording (those are tested elsewhere)."""
    intro = Introduction(
        requester_company_id=taker.company.id,
        owner_company_id=giver.company.id,
        state="revealed",
        expires_at=datetime(year, 12, 31, tzinfo=UTC),
    )
    session.add(intro)
    session.flush()
    contract = Contract(
        introduction_id=intro.id,
        reference=f"TEST-{next(_references)}",
        state="active",
        giver_company_id=giver.company.id,
        taker_company_id=taker.company.id,
        activated_at=activated or datetime(year, 2, 1, tzinfo=UTC),
        closed_at=closed,
    )
    session.add(contract)
    session.flush()
    price = {"kind": "free", "amount_cents": 0, "per_unit": unit, "payer": None}
    terms = make_terms(low_code=low_code, unit=unit, price=price)
    session.add(
        ContractVersion(
            contract_id=contract.id, number=1, terms=terms.model_dump_json(), terms_hash="0" * 64
        )
    )
    for n, quantity in enumerate(quantities):
        session.add(
            Delivery(
                contract_id=contract.id,
                delivered_on=date(year, 3, 1) + timedelta(days=n),
                quantity=quantity,
                unit=unit,
                created_by=giver.admin.id,
            )
        )
    session.commit()
    return contract


def pairs(session: Session, quantities: Sequence[float], **kwargs: object) -> list[Member]:
    """One exchange per quantity, each between two companies of its own."""
    made = []
    for quantity in quantities:
        giver, taker = members(session, 2)
        exchange(session, giver, taker, (quantity,), **kwargs)  # type: ignore[arg-type]
        made += [giver, taker]
    return made


def release(session: Session, year: int = YEAR) -> ExchangeFigures:
    with unit_of_work() as work:
        row, made = release_year(work, year)
    assert made
    return ExchangeFigures.model_validate(row.figures)


def section(html: str) -> str | None:
    """The landing page's exchange figures section, or None when the page has none."""
    found = re.search(r'<section[^>]*aria-labelledby="landing-exchanged".*?</section>', html, re.S)
    return found.group(0) if found else None


def tonnes(figures: ExchangeFigures) -> dict[str, float | None]:
    """The published tonnes: per family, and the total under "total"."""
    for delivered in figures.delivered:
        if delivered.unit == "t":
            return {"total": delivered.total} | {f.family: f.quantity for f in delivered.families}
    return {}


# --- the rule, on its own -------------------------------------------------------------------------


def test_the_secrecy_rule_on_cells_of_exchanges() -> None:
    a, b, c, d, e, f, g, h = "ABCDEFGH"
    # Two companies: each knows the other's figure.
    assert not publishable([Exchange(a, b, 50), Exchange(b, a, 50)])
    # Three companies, one of them behind 90 % of the cell: dominance.
    assert not publishable([Exchange(a, b, 45), Exchange(a, c, 45), Exchange(b, c, 10)])
    # Three companies trading evenly still fail: each subtracts its own exchanges from the total
    # and reads the other two's exact exchange.
    assert not publishable([Exchange(a, b, 10), Exchange(b, c, 10), Exchange(c, a, 10)])
    # Four even pairs: whichever one or two companies pool what they know, at least two pairs of
    # strangers remain, none above 85 % of them.
    even = [Exchange(a, b, 25), Exchange(c, d, 25), Exchange(e, f, 25), Exchange(g, h, 25)]
    assert publishable(even)
    # The same four pairs with one of them at 90 %: refused.
    assert not publishable([Exchange(a, b, 900), *even[1:]])
    # Three even pairs: two companies of two pairs pooling what they know read the third pair.
    assert not publishable(even[:3])
    assert not publishable([])


def test_published_quantities_keep_two_significant_figures() -> None:
    assert rounded(12_345) == 12_000
    assert rounded(4_936) == 4_900
    assert rounded(0.4567) == 0.46
    assert rounded(95) == 95


# --- releases and the landing page ----------------------------------------------------------------


def test_a_release_between_two_companies_shows_nothing(
    client: TestClient, session: Session
) -> None:
    giver, taker = members(session, 2)
    exchange(session, giver, taker, (120, 80, 300))
    exchange(session, taker, giver, (40,), low_code=None, unit="MWh")
    figures = release(session)
    assert not figures.any and figures.cells == 0
    # The release exists (the year is closed) and publishes nothing, not even a zero.
    row = session.exec(select(FiguresRelease)).one()
    assert row.period == str(YEAR) and row.figures == figures.model_dump(mode="json")
    html = client.get("/").text
    assert section(html) is None
    assert "Ce que le territoire échange" not in html


def test_no_release_no_section(client: TestClient, session: Session) -> None:
    pairs(session, [1000, 1000, 1000, 1000])  # publishable, but never released
    assert section(client.get("/").text) is None


def test_three_companies_one_at_90_percent_are_suppressed_four_even_pairs_shown(
    client: TestClient, session: Session
) -> None:
    a, b, c = members(session, 3)
    ended = datetime(YEAR - 1, 12, 1, tzinfo=UTC)
    exchange(session, a, b, (450,), year=YEAR - 1, closed=ended)
    exchange(session, a, c, (450,), year=YEAR - 1, closed=ended)
    exchange(session, b, c, (100,), year=YEAR - 1, closed=ended)
    assert not release(session, YEAR - 1).any
    # Four even pairs in another year: the tonnes and the contracts are published, rounded,
    # in French number formats.
    pairs(session, [1234, 1234, 1234, 1234])
    figures = release(session)
    assert tonnes(figures) == {"total": 4900.0, "mineraux": 4900.0}
    assert figures.contracts_signed == 4
    html = section(client.get("/").text)
    assert html is not None
    assert "Ce que le territoire échange" in html and f"Année {YEAR}" in html
    assert FAMILIES["mineraux"].label_fr in html
    assert f"{format_number(4900, 'fr')} t" in html
    assert re.search(r"Contrats signés dans l(&#39;|&#x27;|')année", html), html
    assert "Comment ces chiffres sont protégés" in html
    english = section(client.get("/?lang=en").text)
    assert english is not None and "What the territory exchanges" in english
    assert "4,900 t" in english and FAMILIES["mineraux"].label_en in english


def test_one_suppressed_family_beside_the_total_takes_the_next_smallest_with_it(
    session: Session,
) -> None:
    pairs(session, [1000, 1000, 1000, 1000], low_code=FLY_ASH)
    pairs(session, [200, 200, 200, 200], low_code=SWARF)
    # One exchange of solvents: two companies, suppressed on its own.
    pairs(session, [30], low_code=PLASTICS)
    figures = release(session)
    shown = tonnes(figures)
    # The total passes; shown beside the minerals and the metals, it would give the solvents
    # back (total - minerals - metals). The metals, the smallest shown, are suppressed too.
    assert shown == {"total": 4800.0, "mineraux": 4000.0}
    assert "metaux" not in shown and "chimie" not in shown


def test_a_contract_carried_over_from_the_year_before_is_counted_in_its_own_year_only(
    session: Session,
) -> None:
    # Four even pairs signed in the year, and one pair's contract signed the year before and
    # still running: counted in no release but its own year's, so no two years' counts overlap.
    pairs(session, [100, 100, 100, 100])
    giver, taker = members(session, 2)
    exchange(session, giver, taker, (), activated=datetime(YEAR - 1, 6, 1, tzinfo=UTC))
    figures = release(session)
    assert figures.contracts_signed == 4
    assert release(session, YEAR - 1).contracts_signed is None  # one pair alone that year


def test_other_kinds_and_units_are_cells_of_their_own(session: Session) -> None:
    pairs(session, [500, 500, 500, 500], low_code=None, unit="MWh")
    pairs(session, [100, 100], low_code=FLY_ASH)  # two pairs of tonnes: suppressed
    figures = release(session)
    assert [
        (d.unit, d.total, [(f.family, f.quantity) for f in d.families]) for d in figures.delivered
    ] == [("MWh", 2000.0, [("heat", 2000.0)])]


def test_a_member_who_adds_a_delivery_after_the_release_sees_the_same_landing(
    client: TestClient, session: Session
) -> None:
    people = pairs(session, [1000, 1000, 1000, 1000])
    release(session)
    before = client.get("/").text
    assert section(before) is not None
    giver = people[0]
    contract = session.exec(
        select(Contract).where(Contract.giver_company_id == giver.company.id)
    ).one()
    # Through the API as the member would, dated in the released year.
    answer = client.post(
        f"/api/v1/contracts/{contract.id}/deliveries",
        headers=bearer(session, giver.admin),
        json={"delivered_on": f"{YEAR}-12-30", "quantity": 5000, "unit": "t"},
    )
    assert answer.status_code == 201, answer.text
    for _ in range(3):
        assert section(client.get("/").text) == section(before)
    # And a release run again (beat, the command) keeps the frozen row.
    with unit_of_work() as work:
        again, made = release_year(work, YEAR)
    assert not made and tonnes(ExchangeFigures.model_validate(again.figures))["total"] == 4000.0


def test_a_release_is_in_the_audit_chain_and_the_chain_verifies(session: Session) -> None:
    pairs(session, [1000, 1000, 1000, 1000])
    release(session)
    row = session.exec(select(FiguresRelease)).one()
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "statistics.release")).one()
    assert entry.subject_id == row.id
    assert entry.data == {"period": str(YEAR), "figures_sha256": row.figures_sha256}
    with unit_of_work() as work:
        audit.checkpoint(work)
    with unit_of_work() as work:
        report = audit.verify(work)
    assert report.intact, report.reason


def test_releasing_a_year_twice_stores_one_row_and_one_audit_entry(session: Session) -> None:
    pairs(session, [1000, 1000, 1000, 1000])
    first = release(session)
    with unit_of_work() as work:
        row, made = release_year(work, YEAR)
    assert not made and ExchangeFigures.model_validate(row.figures) == first
    assert session.exec(select(func.count()).select_from(FiguresRelease)).one() == 1
    entries = (
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "statistics.release")
    )
    assert session.exec(entries).one() == 1


def test_concurrent_releases_of_a_year_store_one_row(
    session: Session, migrated_database: sa.Engine
) -> None:
    pairs(session, [1000, 1000, 1000, 1000])
    for year in (YEAR - 2, YEAR - 1, YEAR):
        barrier = threading.Barrier(3)
        results: list[tuple[uuid.UUID, bool]] = []
        failures: list[BaseException] = []

        def run() -> None:
            try:
                barrier.wait()
                with unit_of_work(migrated_database) as work:
                    row, made = release_year(work, year)
                    results.append((row.id, made))
            except BaseException as error:  # a thread's failure must fail the test
                failures.append(error)

        threads = [threading.Thread(target=run) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not failures, failures
        assert len({row_id for row_id, _ in results}) == 1
        assert sorted(made for _, made in results) == [False, False, True]
    rows = session.exec(select(FiguresRelease.period)).all()
    assert sorted(rows) == [str(YEAR - 2), str(YEAR - 1), str(YEAR)]
    entries = (
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "statistics.release")
    )
    assert session.exec(entries).one() == 3


def test_a_year_not_over_is_not_released_and_the_due_year_waits_for_late_records(
    session: Session,
) -> None:
    with pytest.raises(ValueError):
        release_year(session, datetime.now(UTC).year)
    # A year is due once January has passed, so late records of December are in it.
    assert due_year(date(2026, 1, 15)) == 2024
    assert due_year(date(2026, 2, 1)) == 2025
    assert latest_release(session) is None


def test_the_public_api_gives_the_latest_release_as_published(
    client: TestClient, session: Session
) -> None:
    answer = client.get("/api/v1/territory/figures")
    assert answer.status_code == 404
    assert answer.json()["error"] == "NotFound" and answer.json()["field"] is None
    ended = datetime(YEAR - 1, 12, 1, tzinfo=UTC)
    pairs(session, [1000, 1000, 1000, 1000], year=YEAR - 1, closed=ended)
    assert release(session, YEAR - 1).any
    pairs(session, [30, 30])  # suppressed
    release(session)
    body = client.get("/api/v1/territory/figures").json()
    # The latest year, with nothing that passed: no older year's figures instead, no value of
    # a suppressed cell.
    assert body["period"] == str(YEAR) and body["period_end"] == f"{YEAR}-12-31"
    assert body["contracts_signed"] is None
    assert body["delivered"] == []
    assert set(body) == {
        "period", "period_start", "period_end", "released_at",
        "contracts_signed", "delivered",
    }  # fmt: skip


def test_establishments_of_one_legal_unit_count_once(session: Session) -> None:
    """Four even pairs, but the four givers are establishments (SIRETs) of one SIREN: one
    company behind every exchange, at 100 % of the cell."""
    group = siren()
    for n in range(1, 5):
        company = create_company_row(session, siret=siret(group, n))
        giver = Member(company, create_user_row(session, Role.COMPANY_ADMIN, company))
        exchange(session, giver, member(session), (1000,))
    assert not release(session).any


def test_the_beat_task_releases_the_due_year_once(session: Session) -> None:
    from marketplace.territory.tasks import release_figures

    due = due_year(datetime.now(UTC).date())
    pairs(session, [1000, 1000, 1000, 1000], year=due)
    assert release_figures.apply(throw=True).get() == f"{due} released"
    assert release_figures.apply(throw=True).get() == f"{due} already released"
    published = latest_release(session)
    assert published is not None and published.period == str(due) and published.figures.any


# --- the adversary -------------------------------------------------------------------------------


@pytest.mark.parametrize("own", [0.1, 5.0, 10.0, 1000.0])
def test_a_member_with_two_companies_cannot_isolate_a_third_companys_exchanges(
    client: TestClient, session: Session, own: float
) -> None:
    """The target's one exchange of swarf (10 t) is alone in its cell. A member holding
    accounts in two companies makes a contract between them and records deliveries, to fill the
    cell past three companies and subtract its own tonnes from the total, and contracts to do
    the same with the count of contracts. It learns nothing about the target: the release
    publishes nothing that an attacker without those exchanges would not see (nothing)."""
    target, partner = members(session, 2)
    exchange(session, target, partner, (10,), low_code=SWARF)
    x, y = members(session, 2)
    mine = exchange(session, x, y, (), low_code=SWARF)
    exchange(session, y, x, (own,), low_code=SWARF)
    # The deliveries the attacker records itself, through the API, as its two accounts.
    for account in (x, y):
        answer = client.post(
            f"/api/v1/contracts/{mine.id}/deliveries",
            headers=bearer(session, account.admin),
            json={"delivered_on": f"{YEAR}-11-02", "quantity": own, "unit": "t"},
        )
        assert answer.status_code == 201, answer.text
    figures = release(session)
    assert figures == ExchangeFigures(contracts_signed=None, delivered=[])
    assert section(client.get("/").text) is None


def test_the_attacker_with_strangers_in_the_cell_learns_only_a_sum_of_strangers(
    session: Session,
) -> None:
    """Three pairs of strangers (the target's among them) are suppressed: two companies of two
    pairs pooling what they know would read the third. The attacker's exchange lets the cell
    through, but what it subtracts its own tonnes from is then the sum of three pairs of
    strangers, no company above 85 % of it: a figure about the territory, not about anyone."""
    for year in (YEAR - 1, YEAR):
        pairs(session, [10.0, 10.0, 10.0], low_code=SWARF, year=year)
    assert tonnes(release(session, YEAR - 1)) == {}
    x, y = members(session, 2)
    exchange(session, x, y, (20.0,), low_code=SWARF)
    assert tonnes(release(session)) == {"total": 50.0, "metaux": 50.0}


# --- the command, as an operator runs it ---------------------------------------------------------

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("SYMBIOSE_TEST_DATABASE_URL") else [])


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_demo_and_the_release_command(backend: str, tmp_path: Path) -> None:
    """The demo releases the year that is due as beat would; its one contract between two
    companies passes no rule, so its landing page shows no exchange figures."""

    def run(url: str) -> None:
        load_demo(url)
        due = due_year(datetime.now(UTC).date())
        again = symbiose(url, "figures", "release")
        assert again.returncode == 0, again.stderr
        assert f"figures of {due} already released" in again.stdout
        older = symbiose(url, "figures", "release", "--year", str(due - 1))
        assert older.returncode == 0, older.stderr
        assert f"figures of {due - 1} released: 0 cells pass" in older.stdout
        not_over = symbiose(url, "figures", "release", "--year", str(datetime.now(UTC).year))
        assert not_over.returncode == 2 and "(year)" in not_over.stderr
        verified = symbiose(url, "audit", "verify")
        assert verified.returncode == 0 and "audit chain intact" in verified.stdout
        engine = sa.create_engine(url)
        try:
            with Session(engine) as check:
                periods = check.exec(select(FiguresRelease.period)).all()
                entries = check.exec(
                    select(col(AuditEntry.subject_id)).where(
                        AuditEntry.action == "statistics.release"
                    )
                ).all()
        finally:
            engine.dispose()
        assert sorted(periods) == [str(due - 1), str(due)] and len(entries) == 2

    if backend == "postgresql":
        with postgresql_database(os.environ["SYMBIOSE_TEST_DATABASE_URL"], "figures") as url:
            run(url)
    else:
        run(sqlite_url(tmp_path / "demo.db"))
