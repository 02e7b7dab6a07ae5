"""schemathesis over the whole OpenAPI, as an anonymous visitor, a member and the facilitator:
no server error, and every answer as the OpenAPI documents it (status code, content type, body
schema). A route added later is fuzzed without editing this file.

Bounded so that it runs in `make test`: schemathesis's examples and coverage phases (boundary
and invalid values of every parameter) plus SYMBIOSE_FUZZ_EXAMPLES generated cases per
operation, no deadline; SQLite only (the PostgreSQL pass of the Makefile deselects the `fuzz`
marker). Each case is sent as one of the three roles (chosen by the case, so a failure replays
the same), in one world seeded for the run: a company (its administrator's token) with a site,
two flows, a draft and a published listing and a saved search, and an import job of the
facilitator's. Most cases name those real ids, so the fuzzer reaches the code behind a found
object, not only the 404.

Rate limits are left as they are: the routes that have one document their 429, which is then a
conformant answer (each operation starts with fresh budgets all the same).

SYMBIOSE_FUZZ_SURVEY=1 records failures instead of raising them, so one run counts them all;
SYMBIOSE_FUZZ_STATS=<file> writes the counts there as JSON (bench/results/fuzz.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator

import hypothesis
import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session

from api.app import app
from contracts.status import Answers, Evidence
from core import ratelimit
from core.models import utcnow
from marketplace.accounts.models import Role
from marketplace.accounts.service import Actor, actor_of, issue_api_token
from marketplace.alerts import service as alerts
from marketplace.catalogue import service as catalogue
from marketplace.exchanges import drafting, service, wizard
from marketplace.exchanges.schemas import ContractCreate, StatusAnswers
from marketplace.imports import service as imports
from marketplace.introductions.models import Introduction
from tests.conftest import empty_database
from tests.factories import Tenant, bearer, create_flow_row, create_tenant, create_user_row

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("SYMBIOSE_FUZZ_EXAMPLES", "20"))
SURVEY = os.environ.get("SYMBIOSE_FUZZ_SURVEY") == "1"
STATS_FILE = os.environ.get("SYMBIOSE_FUZZ_STATS")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Anonymous once in five cases: most routes refuse it before reading anything.
ROLES = ("anonymous", "member", "member", "facilitator", "facilitator")

schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)

stats: Counter[str] = Counter()
failing: dict[str, Counter[str]] = {}


@pytest.fixture(scope="module", autouse=True)
def _write_stats() -> Iterator[None]:
    yield
    if STATS_FILE:
        report = {
            "requests": stats["requests"],
            "failures": stats["failures"],
            "server_errors": stats["server_errors"],
            "failing_operations": {k: dict(v) for k, v in sorted(failing.items())},
        }
        with open(STATS_FILE, "w") as out:
            json.dump(report, out, indent=2)


class World:
    """What exists while the API is fuzzed: each role's credential and real ids to aim at."""

    def __init__(self, session: Session) -> None:
        tenant = create_tenant(session, "Fuzz Ciments SAS")
        second = create_flow_row(
            session,
            tenant.site,
            label="Chaleur fatale",
            kind="heat",
            unit="MWh",
            low_code=None,
            temperature_c=90,
        )
        facilitator = create_user_row(session, Role.FACILITATOR)
        owner = actor_of(tenant.admin)
        draft = catalogue.create_listing(session, owner, tenant.flow.id)
        published = catalogue.create_listing(session, owner, second.id)
        catalogue.publish(session, owner, published)
        search = alerts.save_search(session, owner, "Cendres", {"kind": "material"})
        csv = b"company,siret,site,latitude,longitude,direction,kind,label,quantity,unit\n"
        job = imports.create_job(
            session, actor_of(facilitator), "x.csv", csv + b"X,1,S,51,2,offer,heat,L,1,MWh\n"
        )
        contracts = self._contracts(session, tenant, actor_of(facilitator))
        # A token of the member's that the fuzzer may revoke: not the one it calls with.
        spare = issue_api_token(session, tenant.admin, "spare")[1].id
        session.commit()
        self.headers: dict[str, dict[str, str]] = {
            "anonymous": {},
            "member": tenant.headers,
            "facilitator": bearer(session, facilitator),
        }
        self.ids: dict[str, list[uuid.UUID]] = {
            "company_id": [tenant.company.id],
            "site_id": [tenant.site.id],
            "flow_id": [tenant.flow.id, second.id],
            "listing_id": [draft.id, published.id],
            "search_id": [search.id],
            "job_id": [job.id],
            "token_id": [spare],
            "contract_id": contracts,
        }

    @staticmethod
    def _contracts(session: Session, tenant: Tenant, staff: Actor) -> list[uuid.UUID]:
        """Two contracts of the member's company (the giver) with another: one in draft, one
        ready for signature (its PDF rendered), from revealed introductions."""
        found = []
        for number in range(2):
            other = create_tenant(session, f"Fuzz Preneur {number} SA")
            intro = Introduction(
                requester_company_id=other.company.id,
                owner_company_id=tenant.company.id,
                requester_flow_id=other.flow.id,
                owner_flow_id=tenant.flow.id,
                state="revealed",
                expires_at=utcnow(),
                revealed_at=utcnow(),
            )
            session.add(intro)
            session.flush()
            contract = drafting.draft(session, staff, ContractCreate(introduction_id=intro.id))
            if number == 1:
                evidence = [
                    Evidence(condition="waste.registers", text="Registres tenus."),
                    Evidence(
                        condition="waste.receiving_facility_authorised",
                        text="Arrêté.",
                        document_sha256=wizard.attach_document(
                            session, staff, contract.id, "a.pdf", "application/pdf", b"%PDF"
                        ).sha256,
                    ),
                ]
                wizard.set_status(
                    session,
                    staff,
                    contract.id,
                    StatusAnswers(answers=Answers(), evidence=evidence, r_code="R5"),
                )
                service.submit(session, staff, contract.id)
                service.freeze(session, staff, contract.id)
            found.append(contract.id)
        session.commit()
        return found


@pytest.fixture(scope="module")
def world(migrated_database: sa.Engine) -> Iterator[World]:
    """One world for the whole run (seeding it per operation would cost more than the fuzzing);
    the fuzzer's changes to it (withdrawn flows, paused listings...) are more states to meet."""
    with Session(migrated_database, expire_on_commit=False) as session:
        yield World(session)
    empty_database(migrated_database)


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """Replaces the conftest's (which empties the database after every test): the world stays,
    but each operation starts with fresh rate-limit budgets."""
    ratelimit.reset()


def _aim(case: schemathesis.Case, world: World) -> str:
    """Choose the role a case is sent as, and put real ids in about three cases out of four; the
    rest keep the fuzzer's ids, which find nothing. Decided by the generated case itself, so a
    failing example replays the same; one role per case rather than each case three times keeps
    the run short (anonymous less often: most routes refuse it at once)."""
    digest = hashlib.sha256(repr((case.path_parameters, case.query, case.body)).encode()).digest()
    role = ROLES[digest[4] % len(ROLES)]
    if digest[0] % 4 == 0:
        return role
    for name in list(case.path_parameters or {}):
        if world.ids.get(name):
            case.path_parameters[name] = _choose(world.ids[name], digest[1])
    for name, key in (("company_id", "company_id"), ("from_site", "site_id")):
        if isinstance(case.query, dict) and name in case.query:
            case.query[name] = _choose(world.ids[key], digest[2])
    if isinstance(case.body, dict) and "flow_id" in case.body:
        case.body["flow_id"] = _choose(world.ids["flow_id"], digest[3])
    return role


def _choose(ids: list[uuid.UUID], byte: int) -> str:
    return str(ids[byte % len(ids)])


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)
def test_api(case: schemathesis.Case, world: World) -> None:
    role = _aim(case, world)
    headers = world.headers[role]
    key = f"{case.method} {case.path} as {role}"
    stats["requests"] += 1
    try:
        response = case.call(headers=headers)
    except Exception as error:
        # What reached the server unanswered (the plain-text 500 of Starlette, before).
        stats["server_errors"] += 1
        stats["failures"] += 1
        failing.setdefault(key, Counter())[f"Unhandled {type(error).__name__}"] += 1
        if SURVEY:
            return
        raise
    if response.status_code >= 500:
        stats["server_errors"] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except (Failure, FailureGroup) as error:
        found = list(error.exceptions) if isinstance(error, FailureGroup) else [error]
        stats["failures"] += 1
        for failure in found:
            failing.setdefault(key, Counter())[f"{failure.title} ({response.status_code})"] += 1
        if not SURVEY:
            raise
