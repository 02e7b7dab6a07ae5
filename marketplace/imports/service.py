"""Territory import jobs: upload, validate every row, then write everything in one transaction.

A job is all-or-nothing. Validation (phase 1) writes nothing but progress; if a row is bad and the
facilitator did not ask to skip bad rows, the job fails with every bad row in its report. Writing
(phase 2) creates or reuses companies (by SIRET blind index) and sites (by name blind index) and
inserts the flows in bulk, in the same transaction as the job's final status and report.

The uploaded file names companies in clear, so it is stored sealed by the vault and erased when
the job ends: a database dump never shows an imported company's identity.
"""

from __future__ import annotations

import base64
import logging
import os
import struct
import time
import traceback
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from core.db import get_engine, refresh_statistics, unit_of_work
from core.models import utcnow
from marketplace.accounts.service import Actor
from marketplace.catalogue.models import Listing
from marketplace.catalogue.public_text import TextNotPublic
from marketplace.catalogue.service import company_names_changed, publish_flows
from marketplace.companies.models import Company, Site
from marketplace.companies.schemas import Identity
from marketplace.companies.service import (
    SitePosition,
    legal_unit_index,
    seal_site_name,
    seal_site_position,
    siret_index,
    site_name_index,
)
from marketplace.flows.models import Flow, FlowStatus
from marketplace.flows.service import FlowRules
from marketplace.imports.errors import NoSuchImport
from marketplace.imports.models import ImportJob, ImportStatus
from marketplace.imports.parser import count_rows, open_table, text_table
from marketplace.imports.rows import CheckedRow, RowChecks
from marketplace.imports.schemas import ImportJobRead
from marketplace.matching.service import flows_changed
from privacy.vault import Sealed, open_json, seal_json

log = logging.getLogger(__name__)

FINISHED = frozenset({ImportStatus.DONE, ImportStatus.FAILED})
PROGRESS_EVERY = 2_000
# Rows per INSERT batch: large enough to amortise the round trips, small enough to bound memory.
INSERT_CHUNK = 5_000
# Bound parameters per IN (...) lookup; SQLite allows 32,766, PostgreSQL 65,535.
LOOKUP_CHUNK = 1_000
# A company created by an import without a `size` cell gets the form's default size class until
# the facilitator corrects it on the company's page.
DEFAULT_SIZE_CLASS = "small"
_SEALED_MAGIC = b"SYMIMP1z"
_T = TypeVar("_T")


# --- jobs --------------------------------------------------------------------------------------


def _seconds(elapsed: float) -> float:
    """A duration for the report, to the hundredth: a person reads no finer, and three decimals
    of arbitrary digits in the stored report look like the coordinates a database copy must not
    hold (tests/test_adversary_database_copy.py searches for them)."""
    return round(elapsed, 2)


def create_job(
    session: Session,
    actor: Actor,
    filename: str,
    content: bytes,
    *,
    skip_bad_rows: bool = False,
    publish: bool = False,
    encoding: str | None = None,
) -> ImportJob:
    """Check the file's shape now (a malformed file is refused, nothing stored) and queue nothing:
    the caller starts the job with `start_job` once it is committed. `encoding` names a text
    file's encoding when it is neither UTF-8 nor detected with confidence."""
    actor.require_staff()
    table = open_table(content, encoding)
    total_rows = count_rows(table)
    job = ImportJob(
        user_id=actor.user_id,
        filename=_clean_filename(filename),
        content=b"",
        skip_bad_rows=skip_bad_rows,
        publish=publish,
        status=ImportStatus.PENDING,
        total_rows=total_rows,
    )
    # The file as UTF-8 delimited text, line for line: a workbook is read only once, here.
    job.content = _seal_content(job.id, table.text.encode("utf-8"))
    session.add(job)
    session.flush()
    return job


def start_job(session: Session, job: ImportJob) -> None:
    """Run the job in the background once `session` commits."""
    # Imported here: tasks imports this module.
    from core.worker import enqueue
    from marketplace.imports.tasks import run_import

    enqueue(session, run_import, str(job.id))


def get_job(session: Session, actor: Actor, job_id: uuid.UUID) -> ImportJob:
    job = session.get(ImportJob, job_id)
    # Someone else's import is "not found": its existence is not disclosed.
    if job is None or not (actor.is_staff or job.user_id == actor.user_id):
        raise NoSuchImport()
    return job


def read_job(job: ImportJob) -> ImportJobRead:
    return ImportJobRead(
        id=job.id,
        filename=job.filename,
        status=ImportStatus(job.status),
        total_rows=job.total_rows,
        processed_rows=job.processed_rows,
        percent=progress_percent(job),
        report=job.report or {},
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


def progress_percent(job: ImportJob) -> int:
    """Validation fills the bar to 90%; writing, one transaction without progress, shows 90%."""
    if job.status in FINISHED:
        return 100
    if job.status == ImportStatus.WRITING:
        return 90
    if job.status == ImportStatus.VALIDATING and job.total_rows:
        return min(90, 90 * job.processed_rows // job.total_rows)
    return 0


def run_job(
    job_id: uuid.UUID,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    engine: Engine | None = None,
) -> ImportJob:
    """Validate then write the job's file; idempotent (a finished job is returned as it is).

    Raises only NotFound for an unknown job. Bad rows or an unexpected failure end the job FAILED,
    saying why in its report.
    """
    engine = engine or get_engine()
    with unit_of_work(engine) as session:
        job = session.get(ImportJob, job_id)
        if job is None:
            raise NoSuchImport()
        if job.status in FINISHED:
            return job
        # A job found VALIDATING or WRITING was cut short by a lost worker: phase 2 is a single
        # transaction, so nothing of it was kept and the job starts over.
        job.status, job.processed_rows = ImportStatus.VALIDATING, 0
        sealed, skip_bad_rows, total = job.content, job.skip_bad_rows, job.total_rows
    try:
        started = time.perf_counter()
        content = _open_content(job_id, sealed)
        checks = _validate(engine, job_id, content, total, on_progress)
        validated = time.perf_counter()
        timing = {"validation": _seconds(validated - started)}
        if checks.errors and not skip_bad_rows:
            _fail(engine, job_id, total, checks.errors, timing)
        else:
            _set_status(engine, job_id, ImportStatus.WRITING, processed_rows=total)
            _write(engine, job_id, total, checks, started, validated)
    except Exception as exc:
        # The message may quote the data (SQL parameters, names): only the type and the code
        # locations are logged, never stored in the report.
        trace = "".join(traceback.format_tb(exc.__traceback__))
        log.error("import %s stopped: %s\n%s", job_id, type(exc).__name__, trace)
        _fail_unexpectedly(engine, job_id)
    with Session(engine, expire_on_commit=False) as session:
        finished = session.get(ImportJob, job_id)
        assert finished is not None
        return finished


# --- phase 1: validation -----------------------------------------------------------------------


def _validate(
    engine: Engine,
    job_id: uuid.UUID,
    content: bytes,
    total: int,
    on_progress: Callable[[int, int], None] | None,
) -> RowChecks:
    with Session(engine) as session:
        checks = RowChecks(rules=FlowRules.load(session))
    processed = 0
    # The stored text, not the upload: a workbook's CSV may outgrow the upload limit.
    for row in text_table(content.decode("utf-8")).rows():
        checks.check(row)
        processed += 1
        if processed % PROGRESS_EVERY == 0:
            _report_progress(engine, job_id, processed, total, on_progress)
    with Session(engine) as session:
        registered = _registered_sirets(session, checks.companies)
    checks.require_nace_of_new_companies(registered)
    _report_progress(engine, job_id, processed, total, on_progress)
    return checks


def _report_progress(
    engine: Engine,
    job_id: uuid.UUID,
    processed: int,
    total: int,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    _set_status(engine, job_id, ImportStatus.VALIDATING, processed_rows=processed)
    if on_progress is not None:
        on_progress(processed, total)


def _set_status(engine: Engine, job_id: uuid.UUID, status: ImportStatus, **values: Any) -> None:
    """A short transaction of its own, so pollers see progress while the job runs."""
    with unit_of_work(engine) as session:
        session.exec(
            sa.update(ImportJob)
            .where(col(ImportJob.id) == job_id, col(ImportJob.status).not_in(FINISHED))
            .values(status=status, **values)
        )


def _registered_sirets(session: Session, sirets: Iterable[str]) -> set[str]:
    by_index = {siret_index(s): s for s in sirets}
    found: set[str] = set()
    for chunk in _chunks(list(by_index), LOOKUP_CHUNK):
        query = select(Company.siret_index).where(col(Company.siret_index).in_(chunk))
        found.update(by_index[index] for index in session.exec(query))
    return found


def _fail(
    engine: Engine,
    job_id: uuid.UUID,
    total: int,
    errors: list[dict[str, Any]],
    timing: dict[str, float],
) -> None:
    report = {
        "errors": errors,
        "detail": f"{len(errors)} rows have errors: nothing was imported. Correct them, or "
        "import again asking to skip bad rows.",
        "seconds": timing,
    }
    _finish(engine, job_id, ImportStatus.FAILED, total, report)


def _fail_unexpectedly(engine: Engine, job_id: uuid.UUID) -> None:
    report = {
        "errors": [],
        "detail": "the import stopped on an unexpected error: nothing was imported.",
    }
    try:
        _finish(engine, job_id, ImportStatus.FAILED, None, report)
    except Exception as exc:
        log.error("import %s could not be marked failed: %s", job_id, type(exc).__name__)


def _finish(
    engine: Engine,
    job_id: uuid.UUID,
    status: ImportStatus,
    processed: int | None,
    report: dict[str, Any],
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "report": report,
        "finished_at": utcnow(),
        "content": b"",
    }
    if processed is not None:
        values["processed_rows"] = processed
    with unit_of_work(engine) as session:
        session.exec(
            sa.update(ImportJob)
            .where(col(ImportJob.id) == job_id, col(ImportJob.status).not_in(FINISHED))
            .values(**values)
        )


# --- phase 2: writing --------------------------------------------------------------------------


def _write(
    engine: Engine,
    job_id: uuid.UUID,
    total: int,
    checks: RowChecks,
    started: float,
    validated: float,
) -> None:
    with unit_of_work(engine) as session:
        # Lock the job's row first: a second worker running the same job (a redelivered task)
        # waits here, then finds it finished and writes nothing.
        claim = session.exec(
            sa.update(ImportJob)
            .where(col(ImportJob.id) == job_id, col(ImportJob.status) == ImportStatus.WRITING)
            .values(processed_rows=total)
        )
        if claim.rowcount != 1:
            return
        now = utcnow()
        companies, created_companies = _companies(session, checks, now)
        sites, grown = _sites(session, checks, companies, now)
        created_sites = sum(grown.values())
        _names_grown(session, set(grown))
        flow_ids = _flows(session, checks, companies, sites, now)
        flows = len(flow_ids)
        # The new flows' matches, computed once this transaction commits.
        flows_changed(session, flow_ids)
        job = session.get(ImportJob, job_id)
        unpublished = []
        if job is not None and job.publish:
            unpublished = _publish(session, flow_ids, [row.line for row in checks.rows])
        report = {
            "errors": checks.errors,
            "unpublished": unpublished,
            "created": {"companies": created_companies, "sites": created_sites, "flows": flows},
            "reused": {
                "companies": len(companies) - created_companies,
                "sites": len(sites) - created_sites,
            },
            "seconds": {
                "validation": _seconds(validated - started),
                "writing": _seconds(time.perf_counter() - validated),
            },
        }
        session.exec(
            sa.update(ImportJob)
            .where(col(ImportJob.id) == job_id)
            .values(status=ImportStatus.DONE, report=report, finished_at=utcnow(), content=b"")
        )
        refresh_statistics(session)


def _companies(
    session: Session, checks: RowChecks, now: datetime
) -> tuple[dict[str, Company], int]:
    """The company of each SIRET with a good row: registered ones reused, the others created."""
    sirets = {row.siret for row in checks.rows}
    by_index = {siret_index(s): s for s in sirets}
    companies: dict[str, Company] = {}
    for chunk in _chunks(list(by_index), LOOKUP_CHUNK):
        query = select(Company).where(col(Company.siret_index).in_(chunk))
        for company in session.exec(query):
            companies[by_index[company.siret_index]] = company
    new_rows = []
    for index, siret in by_index.items():
        if siret in companies:
            continue
        seen = checks.companies[siret]
        assert seen.nace is not None  # require_nace_of_new_companies dropped the others
        size = seen.size_class or DEFAULT_SIZE_CLASS
        company = _sealed_company(siret, index, seen.name, seen.nace, size, now, seen.address)
        companies[siret] = company
        new_rows.append({column: getattr(company, column) for column in Company.model_fields})
    _insert(session, "companies", new_rows)
    return companies, len(new_rows)


def _sealed_company(
    siret: str, index: str, name: str, nace: str, size_class: str, now: datetime, address: str = ""
) -> Company:
    """A company sealed exactly as `companies.service.create_company` seals one."""
    company = Company(
        id=uuid.uuid4(),
        identity_ciphertext=b"",
        wrapped_key=b"",
        kek_id="",
        siret_index=index,
        legal_unit_index=legal_unit_index(siret),
        nace=nace,
        size_class=size_class,
        created_at=now,
    )
    identity = Identity(legal_name=name, siret=siret, address=address)
    sealed = seal_json(identity.model_dump(mode="json"), aad=company.id.bytes)
    company.kek_id, company.wrapped_key = sealed.kek_id, sealed.wrapped_key
    company.identity_ciphertext = sealed.ciphertext
    return company


def _sites(
    session: Session, checks: RowChecks, companies: dict[str, Company], now: datetime
) -> tuple[dict[tuple[str, str], uuid.UUID], dict[uuid.UUID, int]]:
    """The site id of each (SIRET, site) with a good row: existing ones reused by name index;
    and how many sites each company gained."""
    wanted = {(row.siret, row.site_key) for row in checks.rows}
    index_of = {
        key: site_name_index(companies[key[0]].id, checks.sites[key].name) for key in wanted
    }
    company_ids = list({companies[siret].id for siret, _ in wanted})
    existing: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
    for chunk in _chunks(company_ids, LOOKUP_CHUNK):
        query = select(Site.company_id, Site.name_index, Site.id).where(
            col(Site.company_id).in_(chunk)
        )
        for company_id, name_index, found in session.exec(query):
            existing[(company_id, name_index)] = found
    sites: dict[tuple[str, str], uuid.UUID] = {}
    new_rows: list[dict[str, Any]] = []
    for key in wanted:
        company = companies[key[0]]
        site_id = existing.get((company.id, index_of[key]))
        if site_id is None:
            seen = checks.sites[key]
            site_id = uuid.uuid4()
            new_rows.append(
                {
                    "id": site_id,
                    "company_id": company.id,
                    "name_ciphertext": seal_site_name(company, seen.name),
                    "name_index": index_of[key],
                    "position_ciphertext": seal_site_position(
                        company, SitePosition(seen.latitude, seen.longitude, seen.commune)
                    ),
                    "departement_code": seen.departement_code,
                    "region_code": seen.region_code,
                    "h3_cell": seen.h3_cell,
                    "created_at": now,
                }
            )
        sites[key] = site_id
    _insert(session, "sites", new_rows)
    grown: dict[uuid.UUID, int] = {}
    for row in new_rows:
        grown[row["company_id"]] = grown.get(row["company_id"], 0) + 1
    return sites, grown


def _names_grown(session: Session, company_ids: set[uuid.UUID]) -> None:
    """A site new to a company is a new name of it (its own, its town): the company's listings
    already in the catalogue are checked against it (catalogue.company_names_changed)."""
    listed: set[uuid.UUID] = set()
    for chunk in _chunks(sorted(company_ids), LOOKUP_CHUNK):
        query = select(Listing.company_id).where(
            col(Listing.company_id).in_(chunk), Listing.status == "published"
        )
        listed.update(x for x in session.exec(query.distinct()) if x is not None)
    for company_id in sorted(listed):
        company_names_changed(session, company_id)


def _flows(
    session: Session,
    checks: RowChecks,
    companies: dict[str, Company],
    sites: dict[tuple[str, str], uuid.UUID],
    now: datetime,
) -> list[uuid.UUID]:
    columns = (
        *checks.flow_columns,
        "id",
        "company_id",
        "site_id",
        "status",
        "created_at",
        "updated_at",
    )
    active = FlowStatus.ACTIVE.value

    def values(row: CheckedRow) -> dict[str, Any]:
        extra = (
            uuid.uuid4(),
            companies[row.siret].id,
            sites[(row.siret, row.site_key)],
            active,
            now,
            now,
        )
        return dict(zip(columns, row.flow_values + extra, strict=True))

    ids: list[uuid.UUID] = []
    for chunk in _chunks(checks.rows, INSERT_CHUNK):
        rows = [values(row) for row in chunk]
        ids += [r["id"] for r in rows]
        _insert(session, "flows", rows)
    return ids


def _publish(
    session: Session, flow_ids: Sequence[uuid.UUID], lines: Sequence[int]
) -> list[dict[str, Any]]:
    """`--publish`: the facilitator loads a territory's diagnostic straight into the catalogue,
    in the same transaction as the flows (all or nothing).

    A row whose label or description would name or locate its company is imported as a flow but
    not published; the returned entries say which line, field and what to rewrite, never quoting
    the cell."""
    flows: list[Flow] = []
    for chunk in _chunks(flow_ids, 1000):
        flows += session.exec(select(Flow).where(col(Flow.id).in_(chunk))).all()
    held: dict[uuid.UUID, TextNotPublic] = {}
    publish_flows(session, flows, held)
    line_of = dict(zip(flow_ids, lines, strict=True))
    return [
        {"line": line_of[flow_id], "field": rewrite.field, "reason": reason}
        for flow_id, refused in sorted(held.items(), key=lambda item: line_of[item[0]])
        for rewrite in refused.rewrites
        for reason in rewrite.reasons()
    ]


def _insert(session: Session, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Core executemany INSERTs: no ORM object per row, so 100,000 rows take seconds."""
    statement = sa.insert(SQLModel.metadata.tables[table])
    for chunk in _chunks(rows, INSERT_CHUNK):
        session.exec(statement, params=chunk)


# --- the uploaded file, sealed -----------------------------------------------------------------


def _seal_content(job_id: uuid.UUID, content: bytes) -> bytes:
    """The file sealed with a fresh data key, packed with that key (there is no column for it)."""
    # Compressed first: base64 (the vault seals JSON) would otherwise grow it by a third.
    encoded = base64.b64encode(zlib.compress(content, 1)).decode("ascii")
    sealed = seal_json({"file": encoded}, aad=_content_aad(job_id))
    kek_id = sealed.kek_id.encode()
    header = struct.pack(">HH", len(kek_id), len(sealed.wrapped_key))
    return _SEALED_MAGIC + header + kek_id + sealed.wrapped_key + sealed.ciphertext


def _open_content(job_id: uuid.UUID, blob: bytes) -> bytes:
    if not blob.startswith(_SEALED_MAGIC):
        raise ValueError("import content is not sealed")
    start = len(_SEALED_MAGIC)
    kek_length, key_length = struct.unpack(">HH", blob[start : start + 4])
    start += 4
    kek_id = blob[start : start + kek_length].decode()
    wrapped_key = blob[start + kek_length : start + kek_length + key_length]
    ciphertext = blob[start + kek_length + key_length :]
    payload = open_json(Sealed(kek_id, wrapped_key, ciphertext), aad=_content_aad(job_id))
    return zlib.decompress(base64.b64decode(payload["file"]))


def _content_aad(job_id: uuid.UUID) -> bytes:
    return b"import:" + job_id.bytes


def _clean_filename(filename: str) -> str:
    # Browsers may send a full client path; only the name is worth keeping.
    name = os.path.basename(filename.replace("\\", "/")).strip()
    return (name or "import")[:255]


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
