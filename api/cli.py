"""The `symbiose` command: demo, serve, worker, db upgrade, users create, import, match,
keys rotate, audit verify | checkpoint | public-key, contracts verify, figures release."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, NoReturn

import typer
from sqlmodel import Session, col, select

import marketplace.handlers  # noqa: F401 - domain-event handlers, before any command
from core.db import get_engine, unit_of_work
from core.errors import DomainError
from core.migrate import upgrade as migrate_upgrade
from core.settings import get_settings
from marketplace.accounts.models import Role, User
from marketplace.accounts.service import Actor, actor_of, create_user, email_index
from marketplace.companies.models import Company, Site
from marketplace.companies.service import identity_of, site_name
from marketplace.flows.models import Flow
from marketplace.tables import import_all_tables

app = typer.Typer(help="Symbiose: industrial symbiosis marketplace.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="Vault keys.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
contracts_app = typer.Typer(help="Signed exchange contracts.", no_args_is_help=True)
figures_app = typer.Typer(help="The territory's protected exchange figures.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(contracts_app, name="contracts")
app.add_typer(figures_app, name="figures")


@app.callback()
def _every_table_known() -> None:
    """Every command sees the whole model registry: a command importing only some table modules
    fails on a foreign key to a table it never imported (keys rotate did, on `low_codes`)."""
    import_all_tables()


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-wrap data keys and re-seal free text under the first KEK of SYMBIOSE_VAULT_KEKS."""
    from marketplace.flows.keys import rotate_keys

    with unit_of_work() as session:
        done = rotate_keys(session)
    typer.echo(f"re-wrapped {done.companies} company keys, re-sealed {done.flows} flows")


@audit_app.command("verify")
def audit_verify(
    public_key: list[str] = typer.Option(
        [],
        "--public-key",
        help="a published public key (base64) to trust instead of the configured keys; repeat "
        "for former keys",
    ),
) -> None:
    """Check the audit chain: links, signed checkpoints, and that the chain still reaches every
    signed head; names the first broken entry or checkpoint."""
    from privacy.audit import verify
    from privacy.signing import InvalidKey, trusted_keys

    try:
        keys = trusted_keys(public_key)
    except InvalidKey as error:
        _fail(str(error), "public-key")
    with unit_of_work() as session:
        report = verify(session, keys)
    if not report.intact:
        typer.secho(f"audit chain broken: {report.reason}", fg=typer.colors.RED)
        raise typer.Exit(code=1)
    last = report.last_checkpoint
    signed = (
        f"last checkpoint {last.number} signs entry {last.head_seq} ({last.head_hash})"
        if last
        else "no checkpoint yet"
    )
    typer.echo(
        f"audit chain intact: {report.entries} entries, {report.checkpoints} checkpoints; {signed}"
    )


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the chain's head now (beat does it on a schedule)."""
    from privacy.audit import checkpoint

    with unit_of_work() as session:
        made = checkpoint(session)
    if made is None:
        typer.echo("the chain's head is already signed (or the chain is empty)")
    else:
        typer.echo(f"checkpoint {made.number} signs entry {made.head_seq}")


@audit_app.command("public-key")
def audit_public_key() -> None:
    """Print the public key that verifies the checkpoints, to publish for third parties."""
    from privacy.signing import public_key_text, signing_key

    typer.echo(public_key_text(signing_key().public_key()))


@contracts_app.command("verify")
def contracts_verify(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    root: list[Path] = typer.Option(
        [],
        "--root",
        exists=True,
        dir_okay=False,
        help="a CA certificate (PEM) to trust instead of the platform's own; repeat for more",
    ),
) -> None:
    """Check every signature of a contract PDF against the platform's CA
    (SYMBIOSE_CONTRACTS_CA_DIR): one line per signature, then whether the document changed after
    signing. Exits 1 on an invalid signature, a change, no signature or an unreadable file."""
    import logging

    from cryptography import x509

    from contracts.authority import AuthorityError, trusted_root
    from contracts.signing import verify_pdf

    # pyHanko logs each failed check with its traceback; the report below says it in one line.
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        roots = (
            [x509.load_pem_x509_certificate(path.read_bytes()) for path in root]
            if root
            else [trusted_root(get_settings().contracts_ca_dir)]
        )
    except (AuthorityError, ValueError) as error:
        _fail(str(error), "root")
    report = verify_pdf(file.read_bytes(), roots)
    for signature in report.signatures:
        when = signature.signed_at.isoformat() if signature.signed_at else "no time"
        if signature.valid:
            verdict = "valid"
        elif not signature.intact:
            # Trust is not even assessed for bytes that no longer match.
            verdict = "invalid (altered)"
        elif not signature.trusted:
            verdict = "invalid (untrusted)"
        else:
            verdict = "invalid"
        typer.echo(f"{signature.field}\t{signature.signer}\t{when}\t{verdict}")
    if report.signatures:
        typer.echo(
            "document changed after signing"
            if report.changed_after_signing
            else "document unchanged since the last signature"
        )
    if report.ok:
        typer.secho(f"ok: {len(report.signatures)} valid signatures", fg=typer.colors.GREEN)
        return
    typer.secho(f"not ok: {report.reason}", fg=typer.colors.RED)
    raise typer.Exit(code=1)


@figures_app.command("release")
def figures_release(
    year: int | None = typer.Option(
        None, "--year", help="a year that is over (default: the latest one due, as beat does)"
    ),
) -> None:
    """Release a closed year's exchange figures (once; beat does it when the year is due)."""
    from datetime import UTC, datetime

    from marketplace.territory.schemas import ExchangeFigures
    from marketplace.territory.service import release_due, release_year

    today = datetime.now(UTC).date()
    if year is not None and not 2000 <= year < today.year:
        _fail(f"{year} is not a year that is over (2000 to {today.year - 1})", "year")
    with unit_of_work() as session:
        release, made = (
            release_year(session, year, today) if year is not None else release_due(session, today)
        )
    if not made:
        typer.echo(
            f"figures of {release.period} already released on {release.released_at:%Y-%m-%d}"
        )
        return
    cells = ExchangeFigures.model_validate(release.figures).cells
    typer.echo(f"figures of {release.period} released: {cells} cells pass the secrecy rules")


def _fail(detail: str, field: str | None = None) -> NoReturn:
    """End a command refused by what the operator gave (a service's refusal, or the command's
    own): the operator's words are English, like the services' `detail`."""
    where = f" ({field})" if field else ""
    typer.secho(f"error{where}: {detail}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


def _ensure_sqlite_dir() -> None:
    url = get_settings().database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (and load the reference data)."""
    _ensure_sqlite_dir()
    migrate_upgrade(get_engine())
    typer.echo("database is up to date")


@users_app.command("create")
def users_create(
    email: str,
    role: Role = typer.Option(
        Role.MEMBER, help="member, company_admin, facilitator, platform_admin"
    ),
    siret: str = typer.Option("", help="the company's SIRET, for a company role"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    locale: str = typer.Option("fr"),
) -> None:
    """Create a user account."""
    from marketplace.companies.service import find_by_siret

    try:
        with unit_of_work() as session:
            company_id = None
            if siret:
                company = find_by_siret(session, siret)
                if company is None:
                    _fail("no company with this SIRET", "siret")
                company_id = company.id
            user = create_user(
                session,
                email=email,
                password=password,
                role=role,
                company_id=company_id,
                locale=locale,
            )
            typer.echo(f"created {user.email} ({role.value})")
    except DomainError as error:
        _fail(error.detail, error.field)


def _staff_user(session: Session, email: str | None) -> User:
    query = select(User).where(col(User.role).in_([Role.FACILITATOR, Role.PLATFORM_ADMIN]))
    if email:
        query = query.where(User.email_index == email_index(email))
    user = session.exec(query).first()
    if user is None:
        _fail("no facilitator account: create one with `symbiose users create`", "as")
    return user


@app.command("import")
def import_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    skip_bad_rows: bool = typer.Option(False, "--skip-bad-rows", help="import the good rows"),
    publish: bool = typer.Option(False, "--publish", help="publish the imported flows"),
    as_user: str = typer.Option("", "--as", help="the facilitator's e-mail (default: the first)"),
    encoding: str = typer.Option(
        "", "--encoding", help="a CSV file's encoding when not UTF-8 (e.g. shift_jis, cp1252)"
    ),
) -> None:
    """Import a territory (CSV or XLSX, one row per flow) with a progress bar."""
    from marketplace.imports import service as imports

    try:
        with unit_of_work() as session:
            actor = actor_of(_staff_user(session, as_user or None))
            job = imports.create_job(
                session,
                actor,
                file.name,
                file.read_bytes(),
                skip_bad_rows=skip_bad_rows,
                publish=publish,
                encoding=encoding or None,
            )
            job_id, total = job.id, job.total_rows
    except DomainError as error:
        _fail(error.detail, error.field)
    with typer.progressbar(length=total, label=f"import {file.name}") as bar:
        seen = 0

        def progress(done: int, _total: int) -> None:
            nonlocal seen
            bar.update(done - seen)
            seen = done

        job = imports.run_job(job_id, on_progress=progress)
    _print_report(job_id)
    if job.status != "done":
        raise typer.Exit(code=1)


def _print_report(job_id: uuid.UUID) -> None:
    from marketplace.imports.models import ImportJob

    with unit_of_work() as session:
        job = session.get(ImportJob, job_id)
        assert job is not None
        report = job.report or {}
        for error in report.get("errors", []):
            typer.echo(f"line {error['line']}: {error.get('field') or '-'}: {error['reason']}")
        for held in report.get("unpublished", []):
            typer.echo(f"line {held['line']}: {held['field']}: not published: {held['reason']}")
        typer.echo(
            f"status: {job.status}; created: {report.get('created', {})}; "
            f"reused: {report.get('reused', {})}"
        )


@app.command("match")
def match(
    as_json: bool = typer.Option(False, "--json", help="one JSON array of ranked pairs"),
    as_user: str = typer.Option("", "--as", help="the facilitator's e-mail (default: the first)"),
) -> None:
    """Compute the matches not computed yet, then print every offer's ranked requests with the
    facilitator's rights (each company named is an identity read, in the audit chain)."""
    from marketplace.matching import service as matching

    with unit_of_work() as session:
        actor = actor_of(_staff_user(session, as_user or None))
        matching.match_flows(session, matching.unmatched_flows(session))
    with unit_of_work() as session:
        actor = actor_of(_staff_user(session, as_user or None))
        pairs = matching.territory_ranking(session, actor)
        names = _Names(session, actor)
        rows: list[dict[str, Any]] = [
            {
                "offer": names.side(pair.offer),
                "request": names.side(pair.request),
                "score": round(pair.match.score, 4),
                "rank": pair.rank,
            }
            for pair in pairs
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        offer, request = row["offer"], row["request"]
        typer.echo(
            f"{row['rank']:>3}. {row['score']:.2f}  {offer['company']} / {offer['label']}"
            f" → {request['company']} / {request['label']}"
        )


class _Names:
    """Companies' and sites' names for the facilitator, each company's identity read once (and
    logged as such by companies.service.identity_of)."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session, self.actor = session, actor
        self._companies: dict[uuid.UUID, tuple[Company, str]] = {}

    def side(self, flow: Flow) -> dict[str, str | None]:
        if flow.company_id not in self._companies:
            company = self.session.get(Company, flow.company_id)
            assert company is not None
            identity = identity_of(self.session, self.actor, company)
            self._companies[flow.company_id] = (company, identity.legal_name)
        company, legal_name = self._companies[flow.company_id]
        site = self.session.get(Site, flow.site_id)
        return {
            "company": legal_name,
            "site": site_name(company, site) if site else None,
            "label": flow.label,
            "low_code": flow.low_code,
        }


@app.command("demo")
def demo(serve_after: bool = typer.Option(False, "--serve", help="serve once loaded")) -> None:
    """Load the demo territory (idempotent)."""
    from marketplace.demo.loader import load_demo

    _ensure_sqlite_dir()
    migrate_upgrade(get_engine())
    summary = load_demo()
    typer.echo(summary.text())
    if serve_after:
        serve()


@app.command("serve")
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve the web UI and the API."""
    import uvicorn

    typer.echo(f"Symbiose on {get_settings().base_url} (API: /api/v1/docs)")
    # Forwarded headers are read by the app itself, from SYMBIOSE_TRUSTED_PROXIES only
    # (api/proxies.py): uvicorn's own reading would trust any local peer.
    uvicorn.run("api.app:app", host=host, port=port, workers=workers, proxy_headers=False)


@app.command("worker")
def worker(concurrency: int = 2, beat: bool = False) -> None:
    """Run a Celery worker on the broker of SYMBIOSE_BROKER_URL."""
    from core.worker import celery_app

    if not get_settings().broker_url:
        typer.secho("SYMBIOSE_BROKER_URL is not set: tasks already run in-process", err=True)
        raise typer.Exit(code=2)
    argv = ["worker", "--loglevel=INFO", f"--concurrency={concurrency}"]
    if beat:
        argv.append("--beat")
    celery_app.worker_main(argv)


if __name__ == "__main__":
    app()
