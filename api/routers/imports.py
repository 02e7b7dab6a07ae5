"""Territory import: upload a CSV or XLSX file of flows, then follow the job to its report."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from api.deps import ActorDep, SessionDep
from api.guard import UPLOAD_MARK
from core.errors import Invalid
from core.settings import get_settings
from marketplace.imports import service
from marketplace.imports.errors import UploadTooLarge
from marketplace.imports.models import ImportStatus
from marketplace.imports.schemas import ImportJobRead

router = APIRouter(tags=["imports"])


class RowsRejected(Invalid):
    """Bad rows in a small import: nothing was written; the detail names each line and field."""

    def __init__(
        self, job_id: uuid.UUID, errors: list[dict[str, Any]], detail: str | None = None
    ) -> None:
        lines = [f"line {e['line']}: {e.get('field') or '-'}: {e['reason']}" for e in errors[:50]]
        more = f" (and {len(errors) - 50} more)" if len(errors) > 50 else ""
        message = "; ".join(lines) + more if lines else (detail or "the import failed")
        first = errors[0].get("field") if errors else None
        super().__init__(
            f"nothing was imported: {message}",
            field=first or "file",
            extra={"job_id": str(job_id), "rows": errors},
        )

    @property
    def name(self) -> str:
        # Named apart from other refused input: its body carries the job and its rows.
        return "RowsRejected"


@router.post(
    "/flows/import",
    response_model=ImportJobRead,
    status_code=202,
    # The body may be as large as an upload (api/guard.py), not the small JSON limit.
    openapi_extra={UPLOAD_MARK: True},
)
def import_flows(
    request: Request,
    response: Response,
    session: SessionDep,
    actor: ActorDep,
    file: UploadFile = File(description="CSV (UTF-8 or Windows-1252, `,` or `;`) or XLSX"),
    skip_bad_rows: bool = Form(False, description="import the good rows, report the bad ones"),
    publish: bool = Form(False, description="publish the imported flows to the catalogue"),
    encoding: str = Form(
        "",
        max_length=40,
        description="a CSV file's text encoding (such as `shift_jis`), when it is not UTF-8: "
        "without it, UTF-8, UTF-16 with a BOM and a confidently detected Windows-1252 are read, "
        "and anything else is refused (422) rather than guessed",
    ),
) -> ImportJobRead:
    """The facilitator imports a territory: one row per flow, with its company and site.

    A malformed file is refused here (4xx naming `file`, and the line and column when one cell
    or row is at fault; 413 past a size limit). The rows are checked by a background
    job: follow it at the `Location` returned; its report lists every bad row with its line.
    """
    # Refused before reading the upload into memory.
    actor.require_staff()
    limit = get_settings().max_upload_bytes
    content = file.file.read(limit + 1)
    if len(content) > limit:
        raise UploadTooLarge(field="file", megabytes=limit // (1024 * 1024), limit=limit)
    job = service.create_job(
        session,
        actor,
        file.filename or "import",
        content,
        skip_bad_rows=skip_bad_rows,
        publish=publish,
        encoding=encoding or None,
    )
    response.headers["Location"] = request.url_for("get_import", job_id=job.id).path
    if job.total_rows > get_settings().import_background_rows:
        service.start_job(session, job)
        return service.read_job(job)
    # A small file is checked and written before answering, so a bad row is a 4xx here.
    session.commit()
    job = service.run_job(job.id)
    if job.status == ImportStatus.FAILED:
        raise RowsRejected(job.id, job.report.get("errors", []), job.report.get("detail"))
    response.status_code = 201
    return service.read_job(job)


@router.get("/imports/{job_id}", response_model=ImportJobRead, name="get_import")
def get_import(job_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> ImportJobRead:
    """An import's progress and, once finished, its report."""
    return service.read_job(service.get_job(session, actor, job_id))
