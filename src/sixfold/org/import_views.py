"""Pages and API of org-chart imports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.errors import DomainError
from sixfold.inputs import Id
from sixfold.jobs.runner import error_summary
from sixfold.org import imports, service
from sixfold.web.access import DbSession, Require, client_ip
from sixfold.web.routing import add_routes
from sixfold.web.templating import render

router = APIRouter()
CanImport = Annotated[Principal, Require(Permission.IMPORT_ORG_CHART).as_dependency()]
ERRORS_SHOWN = 500


async def _queue_upload(
    request: Request, principal: Principal, db: Session, upload: UploadFile, skip_invalid: bool
) -> imports.ImportJob:
    """Store the upload as an import job (the page and the API differ only in the answer)."""
    # One byte past the limit is enough for queue_import to refuse an oversized file
    # without the whole of it being read into memory.
    content = await upload.read(imports.MAX_UPLOAD_BYTES + 1)
    return imports.queue_import(
        db,
        service.current_organisation(db),
        filename=upload.filename or "upload.csv",
        content=content,
        skip_invalid=skip_invalid,
        actor=principal.actor(client_ip(request)),
    )


@router.get("/imports", response_class=HTMLResponse, include_in_schema=False)
def imports_page(request: Request, principal: CanImport, db: DbSession) -> HTMLResponse:
    organisation = service.current_organisation(db)
    return render(
        request,
        "imports.html",
        jobs=imports.recent_imports(db, organisation),
        error=None,
        max_mib=imports.MAX_UPLOAD_BYTES // 2**20,
    )


@router.post("/imports", include_in_schema=False)
async def upload_page(
    request: Request,
    principal: CanImport,
    db: DbSession,
    file: Annotated[UploadFile, File()],
    skip_invalid: Annotated[bool, Form()] = False,
) -> Response:
    try:
        job = await _queue_upload(request, principal, db, file, skip_invalid)
    except DomainError as error:
        db.rollback()
        organisation = service.current_organisation(db)
        return render(
            request,
            "imports.html",
            status_code=error.status_code,
            jobs=imports.recent_imports(db, organisation),
            error=str(error),
            max_mib=imports.MAX_UPLOAD_BYTES // 2**20,
        )
    db.commit()
    return RedirectResponse(f"/imports/{job.id}", status_code=303)


@router.get("/imports/{job_id}", response_class=HTMLResponse, include_in_schema=False)
def import_page(request: Request, job_id: Id, principal: CanImport, db: DbSession) -> HTMLResponse:
    organisation = service.current_organisation(db)
    job = imports.get_import(db, organisation, job_id)
    return render(
        request,
        "import.html",
        job=job,
        errors=job.errors[:ERRORS_SHOWN],
        more_errors=max(0, len(job.errors) - ERRORS_SHOWN),
    )


class ImportOut(BaseModel):
    id: int
    filename: str
    state: str
    finished: bool
    done: int
    total: int | None
    result: dict[str, Any]
    errors: list[dict[str, Any]]
    last_error: str | None


def _out(job: imports.ImportJob) -> ImportOut:
    return ImportOut(
        id=job.id,
        filename=job.filename,
        state=job.state,
        finished=job.is_finished,
        done=job.progress_done,
        total=job.progress_total,
        result=job.result,
        errors=job.errors,
        last_error=error_summary(job.last_error),
    )


@router.post("/api/v1/imports", response_model=ImportOut, status_code=202, tags=["organisation"])
async def upload_api(
    request: Request,
    principal: CanImport,
    db: DbSession,
    file: Annotated[UploadFile, File()],
    skip_invalid: Annotated[bool, Form()] = False,
) -> ImportOut:
    """Queue an org-chart CSV import; poll the returned import until `finished`."""
    job = await _queue_upload(request, principal, db, file, skip_invalid)
    db.commit()
    return _out(job)


@router.get("/api/v1/imports/{job_id}", response_model=ImportOut, tags=["organisation"])
def import_api(job_id: Id, principal: CanImport, db: DbSession) -> ImportOut:
    organisation = service.current_organisation(db)
    return _out(imports.get_import(db, organisation, job_id))


def register(app: FastAPI) -> None:
    add_routes(app, router)
