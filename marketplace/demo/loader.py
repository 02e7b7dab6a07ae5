"""Load the demo territory through the same import path a facilitator uses (idempotent)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from core.db import unit_of_work
from marketplace.accounts.models import Role, User
from marketplace.accounts.service import actor_of, create_user, find_user_by_email
from marketplace.companies.service import find_by_siret
from marketplace.demo.contracts import create_demo_contract
from marketplace.demo.introductions import create_demo_introductions
from marketplace.imports import service as imports
from marketplace.territory.schemas import ExchangeFigures
from marketplace.territory.service import release_due

DATA = Path(__file__).resolve().parent
TERRITORY = DATA / "territory.csv"
USERS = DATA / "users.csv"


@dataclass
class DemoSummary:
    imported: bool
    flows: int = 0
    companies: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    # The introductions made by this run, by the state each was left in.
    introductions: list[str] = field(default_factory=list)
    # The reference of the signed contract made by this run.
    contract: str | None = None
    # The year whose exchange figures this run released, and how many cells passed the rules.
    figures: tuple[str, int] | None = None

    def text(self) -> str:
        head = (
            f"demo territory loaded: {self.companies} companies, {self.flows} flows"
            if self.imported
            else "demo territory already loaded"
        )
        lines = [head]
        if self.introductions:
            lines.append(f"demo introductions: {', '.join(self.introductions)}")
        if self.contract:
            lines.append(f"demo contract signed by all three parties: {self.contract}")
        if self.figures:
            year, cells = self.figures
            lines.append(f"exchange figures of {year} released: {cells} cells pass the rules")
        lines.append("demo logins (e-mail / password / role):")
        shown = [x for x in self.logins if x[2] != Role.COMPANY_ADMIN.value][:4]
        shown += [x for x in self.logins if x[2] == Role.COMPANY_ADMIN.value][:4]
        lines += [f"  {email} / {password} / {role}" for email, password, role in shown]
        lines.append(f"  ... and {len(self.logins) - len(shown)} more in {USERS.name}")
        return "\n".join(lines)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _ensure_user(session: Session, row: dict[str, str]) -> None:
    if find_user_by_email(session, row["email"]) is not None:
        return
    company = find_by_siret(session, row["siret"]) if row["siret"] else None
    create_user(
        session,
        email=row["email"],
        password=row["password"],
        role=Role(row["role"]),
        company_id=company.id if company else None,
        locale=row.get("locale") or "fr",
    )


def load_demo() -> DemoSummary:
    users = _read(USERS)
    staff_rows = [u for u in users if u["role"] in (Role.FACILITATOR, Role.PLATFORM_ADMIN)]
    logins = [(u["email"], u["password"], u["role"]) for u in users]
    with unit_of_work() as session:
        for row in staff_rows:
            _ensure_user(session, row)
        first_siret = _read(TERRITORY)[0]["siret"]
        already = find_by_siret(session, first_siret) is not None
        facilitator = session.exec(select(User).where(User.role == Role.FACILITATOR)).first()
        assert facilitator is not None
        actor = actor_of(facilitator)
        job_id = None
        if not already:
            job = imports.create_job(
                session, actor, TERRITORY.name, TERRITORY.read_bytes(), publish=True
            )
            job_id = job.id
    summary = DemoSummary(imported=not already, logins=logins)
    if job_id is not None:
        job = imports.run_job(job_id)
        if job.status != "done":
            raise RuntimeError(f"the demo territory did not import: {job.report}")
        created = job.report.get("created", {})
        summary.flows, summary.companies = created.get("flows", 0), created.get("companies", 0)
    with unit_of_work() as session:
        for row in users:
            _ensure_user(session, row)
    with unit_of_work() as session:
        summary.introductions = create_demo_introductions(session, actor).created
    with unit_of_work() as session:
        summary.contract = create_demo_contract(session, actor)
    # The release beat would make: the landing page shows only what passes the secrecy rules,
    # and the demo's one contract between two companies passes none of them.
    with unit_of_work() as session:
        release, made = release_due(session)
        if made:
            cells = ExchangeFigures.model_validate(release.figures).cells
            summary.figures = (release.period, cells)
    return summary
