"""The job dashboard: server-rendered pages over the same services the JSON routes call (api/services)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
from http import HTTPStatus
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from docagent.api.deps import (
    SESSION_COOKIE,
    SettingsDep,
    StorageDep,
    same_origin,
)
from docagent.api.pages import TEMPLATES, PageOwner, page, see_other
from docagent.api.schemas import DatasetPublic, JobCreate, JobPublic, JobRevise, ScheduleCreate
from docagent.api.services import brands, datasets, drafts, jobs, schedules
from docagent.engine import i18n
from docagent.engine.formats import DEFAULT_FORMATS
from docagent.engine.plan import PLACEHOLDER, Plan
from docagent.errors import (
    DocagentError,
    InUse,
    InvalidBrand,
    InvalidSchedule,
    ModelNotConfigured,
    NotFound,
    NothingToPlan,
    NotSignedIn,
    PlanError,
    UnknownBrand,
)
from docagent.service import lifecycle
from docagent.service.lifecycle import FINAL, JobStatus
from docagent.service.sessions import close_session, open_session

router = APIRouter(include_in_schema=False)
PAGE = 20


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return page(request, "login.html", "", error="")


@router.post("/login", response_class=HTMLResponse, response_model=None)
def login(request: Request, settings: SettingsDep, key: Annotated[str, Form()] = "") -> Response:
    same_origin(request)  # no signing a visitor in to someone else's account from another site
    token = open_session(key.strip(), settings)
    if token is None:
        return page(request, "login.html", "", 401, error="That key is unknown or revoked.")
    response = see_other("/")
    response.set_cookie(
        SESSION_COOKIE,
        token,  # opaque: the session lives on the server (docagent.service.sessions)
        max_age=settings.session_max_age_s,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(request: Request, owner: PageOwner, settings: SettingsDep) -> RedirectResponse:
    close_session(request.cookies.get(SESSION_COOKIE, ""), settings)
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(TEMPLATES / "static" / "favicon.svg", media_type="image/svg+xml")


def _jobs(owner: str, settings: SettingsDep, status_: str | None, skip: int) -> tuple[JobStatus | None, Any]:
    wanted = JobStatus(status_) if status_ in set(JobStatus) else None  # an unknown filter shows everything
    return wanted, jobs.list_jobs(owner, settings, wanted, skip, PAGE)


@router.get("/", response_class=HTMLResponse)
def jobs_page(
    request: Request,
    owner: PageOwner,
    settings: SettingsDep,
    status_: Annotated[str | None, Query(alias="status")] = None,
    skip: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    deleted: str = "",
) -> HTMLResponse:
    wanted, found = _jobs(owner, settings, status_, skip)
    base = {"status": wanted.value} if wanted else {}
    return page(
        request,
        "jobs.html",
        owner,
        nav="jobs",
        deleted=deleted[:120],
        jobs=found.data,
        count=found.count,
        statuses=list(JobStatus),
        status=wanted,
        skip=skip,
        limit=PAGE,
        query=urlencode({**base, "skip": skip}),
        prev_query=urlencode({**base, "skip": max(0, skip - PAGE)}),
        next_query=urlencode({**base, "skip": skip + PAGE}),
    )


def readable(text: str) -> list[tuple[bool, str]]:
    """Prose as (is_placeholder, text) pieces, for chips in the outline: `{revenue_change}` reads "revenue change",
    and a sign-dependent `{qoq|rose|fell|was flat}` reads "rose / fell / was flat"."""
    pieces: list[tuple[bool, str]] = []
    at = 0
    for m in PLACEHOLDER.finditer(text):
        if m.start() > at:
            pieces.append((False, text[at : m.start()]))
        words = [w for w in (m.group(3) or "").split("|") if w]  # the next chip names the figure itself
        pieces.append((True, " / ".join(words) if words else m.group(1).replace("_", " ")))
        at = m.end()
    if at < len(text):
        pieces.append((False, text[at:]))
    return pieces


def outline(plan: dict[str, Any] | None) -> list[tuple[str, list[tuple[bool, str]]]]:
    items = []
    for b in (plan or {}).get("blocks", []):
        kind = b.get("type", "")
        if kind == "kpis":
            text = ", ".join(i.get("label") or i.get("metric", "").replace("_", " ") for i in b.get("items", []))
        elif kind == "bullets":
            text = "; ".join(str(i) for i in b.get("items", [])[:2])
        else:
            text = b.get("text") or b.get("title") or ""
        if kind == "chart":
            kind = f"{b.get('kind', '')} chart"
        items.append((kind.replace("_", " "), readable(str(text))))
    return items


def stages(job: JobPublic, timings: dict[str, Any]) -> list[tuple[str, bool, Any]]:
    order = [JobStatus.QUEUED, JobStatus.PLANNING, JobStatus.RENDERING, JobStatus.SUCCEEDED]
    reached = order.index(job.status) if job.status in order else -1
    final = job.status if job.status in FINAL else JobStatus.SUCCEEDED
    # rendering began when planning ended: the planning stage records how long it took
    rendered_from = (
        job.started_at + dt.timedelta(seconds=timings["plan"]) if job.started_at and "plan" in timings else None
    )
    return [
        (JobStatus.QUEUED, True, job.created_at),
        (JobStatus.PLANNING, reached >= 1 or job.started_at is not None, job.started_at),
        (JobStatus.RENDERING, reached >= 2 or rendered_from is not None, rendered_from),
        (final, job.status in FINAL, job.finished_at),
    ]


def editable(plan: dict[str, Any] | None) -> str:
    """The plan as a person edits it: without the empty optional fields."""
    if not plan:
        return ""
    with contextlib.suppress(ValidationError):  # otherwise shown as stored
        plan = Plan.model_validate(plan).model_dump(mode="json", exclude_none=True)
    return json.dumps(plan, indent=2, ensure_ascii=False)


def detail_context(job_id: str, owner: str, settings: SettingsDep, **extra: Any) -> dict[str, Any]:
    job = jobs.load(job_id, owner, settings)
    row = jobs.get_row(job_id, owner, settings)
    plan, timings = row.plan, dict(row.timings or {})
    return {
        "job": job,
        "stages": stages(job, timings),
        "outline": outline(plan),
        "plan_json": json.dumps(plan, indent=2, ensure_ascii=False) if plan else "",
        "plan_edit": editable(plan),
        "title": (plan or {}).get("meta", {}).get("title"),
        "model_configured": bool(settings.llm_base_url),  # Revise is the model's work: offered only with one
        "preview_cap": jobs.PREVIEW_PAGES,  # at the cap, the previews may not be the whole document
        **extra,
    }


@router.get("/jobs/new", response_class=HTMLResponse)
def new_job_page(request: Request, owner: PageOwner, settings: SettingsDep) -> HTMLResponse:
    drafts.sweep(settings)
    return new_job_form(request, owner, settings, NewJob())


class NewJob(BaseModel):
    """What the New job form holds, kept when it comes back with errors."""

    prompt: str = ""
    chosen: list[str] = []
    drafts: list[dict[str, Any]] = []
    formats: list[str] = list(DEFAULT_FORMATS)
    theme: str | None = None
    brand: str = ""
    language: str = ""
    planner: str = "auto"
    key: str = Field(default_factory=lambda: secrets.token_urlsafe(16))


def new_job_form(
    request: Request,
    owner: str,
    settings: SettingsDep,
    form: NewJob,
    code: int = 200,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    themes = sorted(p.stem for p in (TEMPLATES.parent / "themes").glob("*.json"))
    uploaded = datasets.list_datasets(owner, settings, 0, 200).data  # newest first
    newest: dict[str, DatasetPublic] = {}
    for d in uploaded:  # one row per name, as the Datasets page shows them; an older version only when chosen
        newest.setdefault(d.name, d)
    shown = [d for d in uploaded if newest[d.name] is d or d.id in form.chosen]
    return page(
        request,
        "new_job.html",
        owner,
        code,
        nav="new",
        datasets=shown,
        errors=errors or {},
        form=form,
        themes=themes,
        languages=i18n.supported(),
        theme=form.theme or settings.default_theme,
        brands=[b.name for b in brands.list_brands(owner, settings).data],
        model_configured=bool(settings.llm_base_url),
    )


FIELD_NAMES = {"prompt": "prompt", "formats": "formats", "theme": "theme", "language": "language", "brand": "brand"}


def field_errors(error: ValidationError) -> dict[str, str]:
    """A request model's errors as the form's fields show them, in words (the field's name is where it shows)."""
    out: dict[str, str] = {}
    for err in error.errors():
        field = FIELD_NAMES.get(str(err["loc"][0]) if err["loc"] else "", "form")
        ctx = err.get("ctx") or {}
        if err["type"] == "string_too_long" and field == "prompt":
            given = len(err.get("input") or "")
            text = f"This is {given:,} characters long; the most a description can be is {ctx['max_length']:,}."
        else:
            text = sentence(err["msg"])
        out.setdefault(field, text)
    return out


def sentence(text: str) -> str:
    """A message as a sentence on a page: capitalised, ending with a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?:" else text + "."


async def _drafts_from(
    files: list[UploadFile] | None, owner: str, settings: SettingsDep, errors: dict[str, str]
) -> list[str]:
    """Files sent with the form itself (no JavaScript) become drafts too: stored only if the job is created."""
    ids = []
    for f in files or []:
        if f.filename:
            try:
                ids.append((await drafts.create(f, owner, settings))["id"])
            except DocagentError as e:
                errors["files"] = str(e)
    return ids


@router.post("/jobs/new", response_class=HTMLResponse, response_model=None)
async def new_job_submit(
    request: Request,
    owner: PageOwner,
    settings: SettingsDep,
    storage: StorageDep,
    prompt: Annotated[str, Form()] = "",
    dataset_ids: Annotated[list[str] | None, Form()] = None,
    draft_ids: Annotated[list[str] | None, Form()] = None,
    formats: Annotated[list[str] | None, Form()] = None,
    theme: Annotated[str | None, Form()] = None,
    brand: Annotated[str | None, Form(max_length=64)] = None,
    language: Annotated[str | None, Form()] = None,
    planner: Annotated[str, Form()] = "auto",
    idempotency_key: Annotated[str, Form(max_length=200)] = "",
    files_error: Annotated[str, Form(max_length=2000)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> HTMLResponse | RedirectResponse:
    """Create the job; picked files become dataset versions only now, and only if the job is accepted."""
    if idempotency_key and (done := lifecycle.find_by_key(owner, idempotency_key, settings)) is not None:
        return see_other(f"/jobs/{done.id}?resubmitted=1")  # back and submit again: show the first job
    errors: dict[str, str] = {}
    draft_list = list(draft_ids or []) + await _drafts_from(files, owner, settings, errors)
    kept = []
    for d in draft_list:
        try:
            kept.append(drafts.get(d, owner, settings))
        except DocagentError as e:
            errors["files"] = str(e)
    form = NewJob(
        prompt=prompt,
        chosen=list(dataset_ids or []),
        drafts=kept,
        formats=formats or [],
        theme=theme,
        brand=brand or "",
        language=language or "",
        planner=planner,
        key=idempotency_key or secrets.token_urlsafe(16),
    )
    if files_error and not kept and not form.chosen:  # the picked file failed: say that, not "no data chosen"
        errors["files"] = files_error[:500]
        errors["data"] = "No data is chosen: the file above could not be read. Pick another file or a dataset."
    if not prompt.strip():
        errors["prompt"] = "Describe the document you want, for example “A quarterly sales report by region”."
    if not formats:
        errors["formats"] = "Choose at least one format."
    body = None
    if not errors:
        try:
            body = JobCreate(
                prompt=prompt,
                dataset_ids=form.chosen + [d["id"] for d in kept],  # checked with the drafts, sent without
                formats=formats or [],
                planner=planner,
                theme=theme or None,
                brand=brand or None,
                language=language or None,
            )
            jobs.check_plannable(body, settings)
            brands.check_choice(body.brand, owner, settings)
        except ValidationError as e:
            errors.update(field_errors(e))
        except ModelNotConfigured as e:
            errors["planner"] = sentence(str(e))
        except NothingToPlan as e:
            errors["data"] = sentence(str(e))
        except (UnknownBrand, InvalidBrand) as e:
            errors["brand"] = sentence(str(e))
    if body is not None and not errors:
        body.dataset_ids = form.chosen
        try:
            accepted = drafts.submit_with(body, [d["id"] for d in kept], owner, settings, storage, form.key)
        except DocagentError as e:
            errors["form"] = sentence(str(e))
        else:
            return see_other(f"/jobs/{accepted.id}")
    return new_job_form(request, owner, settings, form, 422, errors)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(
    job_id: str, request: Request, owner: PageOwner, settings: SettingsDep, resubmitted: bool = False
) -> HTMLResponse:
    context = detail_context(job_id, owner, settings)
    return page(request, "job.html", owner, nav="jobs", resubmitted=resubmitted, **context)


@router.get("/partials/jobs/{job_id}", response_class=HTMLResponse)
def job_partial(job_id: str, request: Request, owner: PageOwner, settings: SettingsDep) -> HTMLResponse:
    return page(request, "_job_detail.html", owner, **detail_context(job_id, owner, settings))


@router.post("/jobs/{job_id}/retry", response_class=HTMLResponse, response_model=None)
def job_retry(job_id: str, request: Request, owner: PageOwner, settings: SettingsDep) -> Response:
    try:
        jobs.retry(job_id, owner, settings)
    except (UnknownBrand, InvalidBrand) as e:  # it would fail the same way: said next to the Retry button
        return job_form_error(request, job_id, owner, settings, 422, retry_error=sentence(str(e)))
    return see_other(f"/jobs/{job_id}")


@router.get("/jobs/{job_id}/delete", response_class=HTMLResponse)
def job_confirm_delete(job_id: str, request: Request, owner: PageOwner, settings: SettingsDep) -> HTMLResponse:
    context = detail_context(job_id, owner, settings)
    return page(request, "confirm_delete_job.html", owner, nav="jobs", **context)


@router.post("/jobs/{job_id}/delete")
def job_delete(job_id: str, owner: PageOwner, settings: SettingsDep, storage: StorageDep) -> RedirectResponse:
    prompt = jobs.delete(job_id, owner, settings, storage)
    return see_other("/?" + urlencode({"deleted": prompt.strip()[:80] or job_id}))


@router.post("/jobs/{job_id}/cancel")
def job_cancel(job_id: str, owner: PageOwner, settings: SettingsDep) -> RedirectResponse:
    jobs.cancel(job_id, owner, settings)
    return see_other(f"/jobs/{job_id}")


@router.get("/datasets", response_class=HTMLResponse)
def datasets_page(request: Request, owner: PageOwner, settings: SettingsDep, deleted: str = "") -> HTMLResponse:
    data = datasets.list_datasets(owner, settings, 0, 200).data
    return page(request, "datasets.html", owner, nav="datasets", datasets=data, deleted=deleted[:250])


@router.post("/datasets/templates", response_class=HTMLResponse, response_model=None)
async def template_upload(
    request: Request, owner: PageOwner, settings: SettingsDep, file: Annotated[UploadFile, File()]
) -> HTMLResponse | RedirectResponse:
    """An organisation's template, stored as the JSON route stores it (kind template)."""
    try:
        row, _ = await datasets.ingest_upload(file, None, owner, settings, "template")
    except DocagentError as e:
        shown = datasets.list_datasets(owner, settings, 0, 200).data
        return page(request, "datasets.html", owner, 422, nav="datasets", datasets=shown, template_error=str(e))
    return see_other(f"/datasets/{row.id}")


@router.get("/datasets/{dataset_id}", response_class=HTMLResponse)
def dataset_page(dataset_id: str, request: Request, owner: PageOwner, settings: SettingsDep) -> HTMLResponse:
    d = datasets.get_dataset(dataset_id, owner, settings)
    found = datasets.versions(d.name, owner, settings)
    return page(request, "dataset.html", owner, nav="datasets", d=d, profile=d.profile, versions=found)


@router.get("/datasets/{dataset_id}/delete", response_class=HTMLResponse)
def dataset_confirm_delete(dataset_id: str, request: Request, owner: PageOwner, settings: SettingsDep) -> HTMLResponse:
    d = datasets.get_dataset(dataset_id, owner, settings)
    used = datasets.users_of(datasets.get_row(dataset_id, owner, settings), settings)
    return page(request, "confirm_delete.html", owner, nav="datasets", d=d, used=used)


@router.post("/datasets/{dataset_id}/delete", response_class=HTMLResponse, response_model=None)
def dataset_delete(
    dataset_id: str, request: Request, owner: PageOwner, settings: SettingsDep, storage: StorageDep
) -> Response:
    d = datasets.get_dataset(dataset_id, owner, settings)
    try:
        datasets.delete_dataset(dataset_id, owner, settings, storage)
    except InUse:  # came into use since the confirmation page: it says by what
        used = datasets.users_of(datasets.get_row(dataset_id, owner, settings), settings)
        return page(request, "confirm_delete.html", owner, 409, nav="datasets", d=d, used=used)
    return see_other("/datasets?" + urlencode({"deleted": f"{d.name} v{d.version}"}))


def error_page(request: Request, code: int, detail: str) -> HTMLResponse:
    """A dashboard route's error as a page (the /v1 routes answer problem+json)."""
    titles = {403: "Not allowed", 404: "Not found", 500: "Something went wrong"}
    title = titles.get(code, HTTPStatus(code).phrase)
    if code == 404 and detail == "Not Found":  # the router's own words for an address it has no route for
        title = "Page not found"
        detail = "There is no page at this address: the link may be mistyped, or what it showed was deleted."
    return page(request, "error.html", "", code, title=title, detail=detail)


def wants_page(request: Request) -> bool:
    return not request.url.path.startswith("/v1/") and "text/html" in request.headers.get("accept", "")


def job_form_error(
    request: Request, job_id: str, owner: str, settings: SettingsDep, code: int, **extra: Any
) -> HTMLResponse:
    return page(request, "job.html", owner, code, nav="jobs", **detail_context(job_id, owner, settings, **extra))


@router.post("/jobs/{job_id}/revise", response_class=HTMLResponse, response_model=None)
def job_revise(
    job_id: str, request: Request, owner: PageOwner, settings: SettingsDep, instruction: Annotated[str, Form()] = ""
) -> Response:
    """A revision of this job; the page moves to the new job."""
    if not instruction.strip():
        error = "Say what should change, for example “make the chart a line”."
        return job_form_error(request, job_id, owner, settings, 422, revise_error=error)
    try:
        child = jobs.revise(job_id, JobRevise(instruction=instruction), owner, settings)
    except (NotFound, NotSignedIn):
        raise
    except DocagentError as e:
        return job_form_error(request, job_id, owner, settings, 409, revise_error=str(e), instruction=instruction)
    return see_other(f"/jobs/{child.id}")


@router.post("/jobs/{job_id}/render", response_class=HTMLResponse, response_model=None)
def job_render(
    job_id: str, request: Request, owner: PageOwner, settings: SettingsDep, plan: Annotated[str, Form()] = ""
) -> Response:
    """The edited plan as a new job on the same data, with no model call."""
    job = jobs.load(job_id, owner, settings)
    row = jobs.get_row(job_id, owner, settings)
    try:
        given = json.loads(plan)
        body = JobCreate(  # the parent's choices stay: only the plan was edited
            prompt=job.prompt,
            plan=given,
            dataset_ids=job.dataset_ids,
            formats=job.formats,
            theme=row.theme,
            brand=row.brand,
            language=row.language,
        )
        accepted = jobs.submit(body, owner, settings)
    except json.JSONDecodeError as e:
        return job_form_error(request, job_id, owner, settings, 422, plan_problems=[f"not JSON: {e}"], plan_text=plan)
    except ValidationError as e:
        problems = [err["msg"] for err in e.errors()]
        return job_form_error(request, job_id, owner, settings, 422, plan_problems=problems, plan_text=plan)
    except PlanError as e:
        return job_form_error(request, job_id, owner, settings, 422, plan_problems=e.problems, plan_text=plan)
    except (NotFound, NotSignedIn):
        raise
    except DocagentError as e:  # the brand kit gone since, a limit reached: said where the Render button is
        return job_form_error(request, job_id, owner, settings, 422, plan_problems=[sentence(str(e))], plan_text=plan)
    return see_other(f"/jobs/{accepted.id}")


@router.post("/jobs/{job_id}/schedule", response_class=HTMLResponse, response_model=None)
def job_schedule(
    job_id: str,
    request: Request,
    owner: PageOwner,
    settings: SettingsDep,
    cron: Annotated[str, Form()] = "",
    timezone: Annotated[str, Form()] = "UTC",
) -> Response:
    """A frozen schedule from this job: its plan on the newest upload of its dataset."""
    job = jobs.load(job_id, owner, settings)
    typed = {"schedule_cron": cron, "schedule_timezone": timezone}  # what the user typed comes back as typed

    def refused(field: str, error: str) -> HTMLResponse:
        return job_form_error(request, job_id, owner, settings, 422, schedule_errors={field: error}, **typed)

    if not job.dataset_ids:
        return refused("form", "This job has no dataset to read fresh data from.")
    source = datasets.get_row(job.dataset_ids[0], owner, settings).name
    title = (jobs.get_row(job_id, owner, settings).plan or {}).get("meta", {}).get("title") or "Report"
    spec = {"from_job": job_id, "formats": job.formats, "source": {"dataset": source}}
    try:
        body = ScheduleCreate.model_validate(
            {"name": title[:200], "cron": cron.strip(), "timezone": timezone.strip() or "UTC", "job": spec}
        )
        created = schedules.create(body, owner, settings)
    except ValidationError as e:
        err = e.errors()[0]
        field = str(err["loc"][0]) if err["loc"] and err["loc"][0] in ("cron", "timezone") else "form"
        return refused(field, sentence(err["msg"]))
    except InvalidSchedule as e:  # the problem next to its field, without the field's name in front
        field = e.field if e.field in ("cron", "timezone") else "form"
        return refused(field, sentence(e.problem))
    except (NotFound, NotSignedIn):
        raise
    except DocagentError as e:
        return refused("form", sentence(str(e)))
    return see_other(f"/schedules/{created.id}?done=created")
