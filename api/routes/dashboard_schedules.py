"""The dashboard's schedule pages: list, create, edit, the schedule's page with its run history, delete.

Every page calls the services the /v1/schedules routes call (api/services/schedules.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import AnyHttpUrl, BaseModel, TypeAdapter, ValidationError

from docagent.api.deps import SettingsDep
from docagent.api.pages import PageOwner, page, see_other
from docagent.api.schemas import RunPublic, RunsPublic, ScheduleCreate, SchedulePublic, ScheduleUpdate
from docagent.api.services import brands, schedules
from docagent.engine import i18n
from docagent.engine.formats import FORMATS
from docagent.errors import InvalidSchedule, NotFound, UnknownBrand
from docagent.service.cron import describe, zone
from docagent.service.lifecycle import FINAL, DeliveryStatus
from docagent.service.schedules import check_webhook

router = APIRouter(include_in_schema=False)
PLANNERS = [("auto", "auto"), ("rules", "rules"), ("llm", "model")]
HISTORY = 50
WEBHOOK = TypeAdapter(AnyHttpUrl)
BAD_URL = "Enter a full address such as https://example.com/hook."


class ScheduleForm(BaseModel):
    """What the schedule form holds: as typed, so it comes back unchanged with its errors."""

    name: str = ""
    cron: str = "0 8 * * mon"
    timezone: str = "UTC"
    source: Literal["dataset", "sql"] = "dataset"
    dataset: str = ""
    connection: str = ""
    sql: str = ""
    prompt: str = ""
    formats: list[str] = ["pdf"]
    planner: str = "auto"
    language: str = ""  # "" = from the prompt
    brand: str = ""  # "" = the theme's colours
    template: str = ""  # "" = docagent's own look; else an uploaded template's name, newest version each run
    webhook_url: str = ""
    enabled: bool = True

    @classmethod
    def of(cls, s: SchedulePublic) -> ScheduleForm:
        job, source = s.job, s.job.get("source") or {}
        return cls(
            name=s.name,
            cron=s.cron,
            timezone=s.timezone,
            source="sql" if "sql" in source else "dataset",
            dataset=source.get("dataset", ""),
            connection=source.get("connection", ""),
            sql=source.get("sql", ""),
            prompt=job.get("prompt", ""),
            formats=job.get("formats", []),
            planner=job.get("planner", "auto"),
            language=job.get("language") or "",
            brand=job.get("brand") or "",
            template=job.get("template") or "",
            webhook_url=s.webhook_url or "",
            enabled=s.enabled,
        )

    def job(self, kept: dict[str, Any]) -> dict[str, Any]:
        """The schedule's job: the form's fields over what the form does not show (a frozen plan, theme...)."""
        if self.source == "sql":
            source: dict[str, str] = {"sql": self.sql, "connection": self.connection}
        else:
            source = {"dataset": self.dataset}
        chosen = {"language": self.language or None, "brand": self.brand or None, "template": self.template or None}
        return {**kept, "prompt": self.prompt, "formats": self.formats, "planner": self.planner, **chosen} | {
            "source": source
        }


def check(form: ScheduleForm, frozen: bool, settings: SettingsDep) -> dict[str, str]:
    """The problems a person can fix on the form, each under its field, all at once."""
    errors = {}
    if not form.name.strip():
        errors["name"] = "Give the schedule a name, for example “Weekly sales”."
    try:
        schedules.preview(form.cron, form.timezone)
    except InvalidSchedule as e:
        errors[e.field or "cron"] = e.problem
    if form.source == "dataset" and not form.dataset.strip():
        errors["source"] = "Choose the dataset each run reads."
    if form.source == "sql" and not form.connection:
        errors["source"] = "Choose a connection for the query."
    elif form.source == "sql" and not form.sql.strip():
        errors["source"] = "Write the query each run reads, for example SELECT * FROM orders."
    if not frozen and not form.prompt.strip():
        errors["prompt"] = "Describe the document each run makes, for example “Weekly sales by region”."
    if not form.formats:
        errors["formats"] = "Choose at least one format."
    if url := form.webhook_url.strip():
        try:
            check_webhook(str(WEBHOOK.validate_python(url)), settings)  # the API's SSRF guard
        except ValidationError:
            errors["webhook_url"] = BAD_URL
        except InvalidSchedule as e:
            errors["webhook_url"] = e.problem
    return errors


FIELD_OF = {"cron": "cron", "timezone": "timezone", "webhook_url": "webhook_url", "name": "name"}


def field_of(loc: str) -> str:
    """The form field for a schedule body's field ("job.source.connection" is the source)."""
    if loc.startswith("job."):
        part = loc.split(".")[1]
        known = ("source", "prompt", "formats", "planner", "language", "brand", "template")
        return part if part in known else "form"
    return FIELD_OF.get(loc, "form")


def submit(
    form: ScheduleForm, owner: str, settings: SettingsDep, existing: SchedulePublic | None
) -> SchedulePublic | dict[str, str]:
    """Create or change the schedule; returns it, or the errors by field."""
    kept = {k: v for k, v in (existing.job if existing else {}).items() if k not in ("source",)}
    frozen = bool(kept.get("plan"))
    errors = check(form, frozen, settings)
    if errors:
        return errors
    fields = {
        "name": form.name.strip(),
        "cron": form.cron.strip(),
        "timezone": form.timezone.strip(),
        "enabled": form.enabled,
        "webhook_url": form.webhook_url.strip() or None,
        "job": form.job(kept),
    }
    try:
        if existing is None:
            return schedules.create(ScheduleCreate.model_validate(fields), owner, settings)
        return schedules.update(existing.id, ScheduleUpdate.model_validate(fields), owner, settings)
    except ValidationError as e:
        found: dict[str, str] = {}
        for err in e.errors():
            where = ".".join(str(p) for p in err["loc"])
            field = field_of(where)
            message = BAD_URL if field == "webhook_url" else err["msg"]
            found.setdefault(field, message)
        return found
    except InvalidSchedule as e:
        return {field_of(e.field or ""): e.problem}
    except UnknownBrand as e:  # deleted since the form was drawn
        return {"brand": str(e)}


def local(t: dt.datetime | None, tz: str) -> str:
    """A time as the schedule's zone reads it: "Mon 1 Dec 2025, 08:00"."""
    if t is None:
        return "–"
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return f"{t.astimezone(zone(tz)):%a %-d %b %Y, %H:%M}"


def offset(t: dt.datetime, tz: str) -> str:
    """The zone's offset at that time, "UTC+08:00" (it changes across daylight saving)."""
    o = t.astimezone(zone(tz)).strftime("%z")
    return f"UTC{o[:3]}:{o[3:]}"


def in_words(cron: str) -> str:
    try:
        return describe(cron)
    except InvalidSchedule:
        return cron


def form_page(
    request: Request,
    owner: str,
    settings: SettingsDep,
    form: ScheduleForm,
    existing: SchedulePublic | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HTMLResponse:
    errors = errors or {}
    preview = None
    if "cron" not in errors and "timezone" not in errors:
        try:
            preview = schedules.preview(form.cron, form.timezone)
        except InvalidSchedule:
            preview = None
    names = schedules.dataset_names(owner, settings)
    if form.dataset and form.dataset not in names:
        names = [form.dataset, *names]  # a schedule may name a dataset not uploaded yet (or deleted)
    return page(
        request,
        "schedule_form.html",
        owner,
        code,
        nav="schedules",
        form=form,
        s=existing,
        frozen=bool(existing and existing.job.get("plan")),
        errors=errors,
        preview=preview,
        zones=schedules.zones(),
        names=names,
        connections=schedules.connections(owner, settings),
        formats=FORMATS,
        # the model planner only where there is a model (or where the schedule already names it, to say why not)
        planners=[p for p in PLANNERS if p[0] != "llm" or settings.llm_base_url or form.planner == "llm"],
        languages=i18n.supported(),
        brands=[b.name for b in brands.list_brands(owner, settings).data],
        templates=schedules.dataset_names(owner, settings, "template"),
        local=local,
        offset=offset,
    )


class Fields:
    """The form's fields as FastAPI reads them (one definition for create and edit)."""

    def __init__(
        self,
        name: Annotated[str, Form(max_length=200)] = "",
        cron: Annotated[str, Form(max_length=120)] = "",
        timezone: Annotated[str, Form(max_length=64)] = "UTC",
        source: Annotated[str, Form()] = "dataset",
        dataset: Annotated[str, Form(max_length=200)] = "",
        connection: Annotated[str, Form(max_length=100)] = "",
        sql: Annotated[str, Form(max_length=20_000)] = "",
        prompt: Annotated[str, Form(max_length=20_000)] = "",
        formats: Annotated[list[str] | None, Form()] = None,
        planner: Annotated[str, Form()] = "auto",
        language: Annotated[str, Form(max_length=16)] = "",
        brand: Annotated[str, Form(max_length=64)] = "",
        template: Annotated[str, Form(max_length=200)] = "",
        webhook_url: Annotated[str, Form(max_length=2000)] = "",
        enabled: Annotated[str, Form()] = "",
    ) -> None:
        self.form = ScheduleForm(
            name=name,
            cron=cron,
            timezone=timezone,
            source="sql" if source == "sql" else "dataset",
            dataset=dataset,
            connection=connection,
            sql=sql,
            prompt=prompt,
            formats=[f for f in formats or [] if f in FORMATS],
            planner=planner if planner in dict(PLANNERS) else "auto",
            language=language.strip(),
            brand=brand.strip(),
            template=template.strip(),
            webhook_url=webhook_url,
            enabled=enabled == "on",
        )


@router.get("/schedules", response_class=HTMLResponse)
def schedules_page(request: Request, owner: PageOwner, settings: SettingsDep, deleted: str = "") -> HTMLResponse:
    data = schedules.list_schedules(owner, settings).data
    return page(
        request,
        "schedules.html",
        owner,
        nav="schedules",
        schedules=data,
        deleted=deleted[:250],
        local=local,
        in_words=in_words,
    )


@router.get("/schedules/new", response_class=HTMLResponse)
def new_schedule_page(request: Request, owner: PageOwner, settings: SettingsDep) -> HTMLResponse:
    names, conns = schedules.dataset_names(owner, settings), schedules.connections(owner, settings)
    first = ScheduleForm(dataset=names[0] if names else "", connection=conns[0] if conns else "")
    return form_page(request, owner, settings, first)


@router.post("/schedules/new", response_class=HTMLResponse, response_model=None)
async def new_schedule_submit(
    request: Request, owner: PageOwner, settings: SettingsDep, fields: Annotated[Fields, Depends()]
) -> Response:
    done = submit(fields.form, owner, settings, None)
    if isinstance(done, dict):
        return form_page(request, owner, settings, fields.form, None, done, 422)
    return see_other(f"/schedules/{done.id}?done=created")


NOTICES = {
    "created": "Schedule created.",
    "saved": "Changes saved.",
    "enabled": "Enabled: it runs at the next fire time.",
    "disabled": "Disabled: it does not run until you enable it again.",
    "run": "Run started: its job is at the top of the history.",
    "skipped": "Not run: the previous run has not finished (this schedule does not allow overlapping runs).",
}


def run_rows(schedule_id: str, owner: str, settings: SettingsDep) -> RunsPublic:
    return schedules.runs(schedule_id, owner, settings, HISTORY)


def settled(run: RunPublic) -> bool:
    """Nothing more will change in this row: the job ended and its webhook is done."""
    job_done = run.job_id is None or run.job_status in FINAL
    return job_done and run.delivery_status != DeliveryStatus.PENDING


@router.get("/schedules/{schedule_id}", response_class=HTMLResponse)
def schedule_page(
    schedule_id: str, request: Request, owner: PageOwner, settings: SettingsDep, done: str = ""
) -> HTMLResponse:
    s = schedules.get(schedule_id, owner, settings)
    return page(
        request,
        "schedule.html",
        owner,
        nav="schedules",
        s=s,
        source=s.job.get("source") or {},
        frozen=bool(s.job.get("plan")),
        words=in_words(s.cron),
        runs=run_rows(schedule_id, owner, settings),
        history=HISTORY,
        notice=NOTICES.get(done, ""),
        local=local,
        offset=offset,
        settled=settled,
    )


@router.get("/partials/schedules/{schedule_id}/runs", response_class=HTMLResponse)
def schedule_runs_partial(schedule_id: str, request: Request, owner: PageOwner, settings: SettingsDep) -> HTMLResponse:
    s = schedules.get(schedule_id, owner, settings)
    runs = run_rows(schedule_id, owner, settings)
    return page(request, "_schedule_runs.html", owner, s=s, runs=runs, local=local, settled=settled)


@router.get("/schedules/{schedule_id}/edit", response_class=HTMLResponse)
def edit_schedule_page(schedule_id: str, request: Request, owner: PageOwner, settings: SettingsDep) -> HTMLResponse:
    s = schedules.get(schedule_id, owner, settings)
    return form_page(request, owner, settings, ScheduleForm.of(s), s)


@router.post("/schedules/{schedule_id}/edit", response_class=HTMLResponse, response_model=None)
async def edit_schedule_submit(
    schedule_id: str, request: Request, owner: PageOwner, settings: SettingsDep, fields: Annotated[Fields, Depends()]
) -> Response:
    s = schedules.get(schedule_id, owner, settings)
    done = submit(fields.form, owner, settings, s)
    if isinstance(done, dict):
        return form_page(request, owner, settings, fields.form, s, done, 422)
    return see_other(f"/schedules/{schedule_id}?done=saved")


@router.get("/schedules/{schedule_id}/delete", response_class=HTMLResponse)
def schedule_confirm_delete(
    schedule_id: str, request: Request, owner: PageOwner, settings: SettingsDep
) -> HTMLResponse:
    s = schedules.get(schedule_id, owner, settings)
    runs = schedules.runs(schedule_id, owner, settings, 1).count
    return page(request, "schedule_delete.html", owner, nav="schedules", s=s, run_count=runs)


@router.post("/schedules/{schedule_id}/delete")
def schedule_delete(schedule_id: str, owner: PageOwner, settings: SettingsDep) -> RedirectResponse:
    s = schedules.get(schedule_id, owner, settings)
    schedules.delete(schedule_id, owner, settings)
    return see_other("/schedules?" + urlencode({"deleted": s.name}))


@router.post("/schedules/{schedule_id}/{action}")
def schedule_action(
    schedule_id: str, action: str, owner: PageOwner, settings: SettingsDep, back: Annotated[str, Form()] = ""
) -> Response:
    """Run now, enable, disable: back to the schedule's page when asked from there, else as the list expects."""
    here = f"/schedules/{schedule_id}"
    if action == "run":
        run = schedules.run(schedule_id, owner, settings)
        if back == "schedule":
            return see_other(f"{here}?done={'run' if run.job_id else 'skipped'}")
        return see_other(f"/jobs/{run.job_id}" if run.job_id else here + "?done=skipped")
    if action in ("enable", "disable"):
        schedules.update(schedule_id, ScheduleUpdate(enabled=action == "enable"), owner, settings)
        return see_other(f"{here}?done={action}d" if back == "schedule" else "/schedules")
    raise NotFound(f"unknown action {action!r}; use run, enable or disable")
