"""The facilitator's territory import: upload a CSV/XLSX file, follow the job, read its report."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from core.errors import DomainError
from core.settings import get_settings
from marketplace.imports import service as imports
from marketplace.imports.models import ImportStatus
from web.forms import SubmittedForm, checked, domain_errors, explain_reason
from web.i18n import N_, page_translator
from web.labels import IMPORT_STATUSES, label
from web.security import STAFF_PAGES, CurrentViewer, DbSession
from web.templating import render

router = APIRouter(include_in_schema=False, dependencies=STAFF_PAGES)

ACCEPTED_SUFFIXES = (".csv", ".xlsx")
# A report can list every row of a 200,000-row file; the page shows the first ones.
REPORT_ROWS_SHOWN = 500
FINISHED = (ImportStatus.DONE, ImportStatus.FAILED)
COUNTED = {"companies": N_("companies"), "sites": N_("sites"), "flows": N_("flows")}


def _upload_page(request: Request, errors: dict[str, str], skip: bool = False) -> Response:
    return render(
        request,
        "import.html",
        {
            "errors": errors,
            "skip_bad_rows": skip,
            "max_mb": get_settings().max_upload_bytes // (1024 * 1024),
        },
        status_code=422 if errors else 200,
    )


@router.get("/import")
def import_page(request: Request) -> Response:
    return _upload_page(request, {})


# "x-upload": the body may be as large as an upload, not the small form limit (api/guard.py).
@router.post("/import", openapi_extra={"x-upload": True})
def upload(
    request: Request, session: DbSession, viewer: CurrentViewer, form: SubmittedForm
) -> Response:
    translate = page_translator(request)
    skip = checked(form, "skip_bad_rows")
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _upload_page(request, {"file": translate(N_("Choose a CSV or XLSX file."))}, skip)
    if PurePath(upload.filename).suffix.lower() not in ACCEPTED_SUFFIXES:
        message = translate(N_("Only CSV and XLSX files can be imported."))
        return _upload_page(request, {"file": message}, skip)
    # One byte over the limit is enough to refuse, without reading a huge file into memory.
    content = upload.file.read(get_settings().max_upload_bytes + 1)
    try:
        job = imports.create_job(
            session, viewer.actor, upload.filename, content, skip_bad_rows=skip, publish=False
        )
        imports.start_job(session, job)
    except DomainError as exc:
        session.rollback()
        errors = domain_errors(exc, translate)
        return _upload_page(request, {"file": " ".join(errors.values())}, skip)
    return RedirectResponse(f"/import/{job.id}", status_code=303)


def _progress_context(
    request: Request, session: DbSession, viewer: CurrentViewer, job_id: uuid.UUID
) -> dict[str, object]:
    translate = page_translator(request)
    job = imports.read_job(imports.get_job(session, viewer.actor, job_id))
    errors = job.report.get("errors") or []
    rows = [
        {
            "line": error.get("line", ""),
            "field": error.get("field", ""),
            "reason": explain_reason(error, translate),
        }
        for error in errors[:REPORT_ROWS_SHOWN]
    ]
    unpublished = [
        {
            "line": held.get("line", ""),
            "field": held.get("field", ""),
            "reason": explain_reason(held, translate),
        }
        for held in (job.report.get("unpublished") or [])[:REPORT_ROWS_SHOWN]
    ]
    created = job.report.get("created") or {}
    reused = job.report.get("reused") or {}
    return {
        "job": job,
        "finished": job.status in FINISHED,
        "status": label(IMPORT_STATUSES, job.status, translate),
        "error_rows": rows,
        "unpublished_rows": unpublished,
        "errors_total": len(errors),
        "errors_hidden": max(0, len(errors) - REPORT_ROWS_SHOWN),
        "created": [(translate(word), created.get(key, 0)) for key, word in COUNTED.items()],
        "reused": [
            (translate(word), reused.get(key, 0)) for key, word in COUNTED.items() if key in reused
        ],
    }


@router.get("/import/{job_id}")
def job_page(
    job_id: uuid.UUID, request: Request, session: DbSession, viewer: CurrentViewer
) -> Response:
    return render(request, "import_job.html", _progress_context(request, session, viewer, job_id))


@router.get("/import/{job_id}/progress")
def job_progress(
    job_id: uuid.UUID, request: Request, session: DbSession, viewer: CurrentViewer
) -> Response:
    """The fragment HTMX polls every second; once finished it no longer asks to be polled."""
    return render(
        request, "_import_progress.html", _progress_context(request, session, viewer, job_id)
    )
