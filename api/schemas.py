"""Request and response bodies: one schema per direction."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from docagent.engine.formats import DEFAULT_FORMATS, Format
from docagent.service.lifecycle import JobStatus


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite drops time zones; every time we store is UTC."""
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


Stamp = Annotated[dt.datetime, AfterValidator(_utc)]
MaybeStamp = Annotated[dt.datetime | None, AfterValidator(_utc)]
ALL_FORMATS: list[Format] = list(DEFAULT_FORMATS)  # the default set; a .pptx deck on request


class ColumnPublic(BaseModel):
    name: str
    type: str


class DatasetPublic(BaseModel):
    id: str
    name: str
    # an image (PNG, JPEG, SVG) is named by image blocks and brand logos; a template by meta.template
    kind: Literal["data", "image", "template"] = "data"
    version: int
    filename: str
    format: str
    rows: int
    bytes: int
    columns: list[ColumnPublic]
    created_at: Stamp
    unchanged: bool = Field(False, description="the upload was byte for byte this version: no new version stored")


class DatasetDetail(DatasetPublic):
    profile: dict[str, Any]


class DraftPublic(BaseModel):
    """An upload profiled for a preview, not yet a dataset version."""

    id: str
    kind: Literal["data", "image"] = "data"
    name: str
    filename: str
    rows: int
    columns: list[ColumnPublic]
    profile: dict[str, Any]


class DatasetsPublic(BaseModel):
    data: list[DatasetPublic]
    count: int


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str = Field("", max_length=20_000)
    dataset_ids: list[str] = Field(default_factory=list, max_length=20)
    formats: list[Format] = Field(default_factory=lambda: list(ALL_FORMATS), min_length=1)
    planner: Literal["auto", "rules", "llm"] = "auto"
    theme: str | None = Field(None, max_length=64)
    brand: str | None = Field(None, max_length=64, description="a brand kit of yours (/v1/brands): the meta.brand")
    language: str | None = Field(None, max_length=16)
    plan: dict[str, Any] | None = Field(None, description="render this plan as is: no model call")

    @model_validator(mode="after")
    def _prompt_or_plan(self) -> JobCreate:
        if self.plan is None and "prompt" not in self.model_fields_set:
            raise ValueError("give a prompt, a plan, or both")
        return self


class JobRevise(BaseModel):
    model_config = ConfigDict(extra="forbid")
    instruction: str = Field(min_length=1, max_length=20_000, examples=["make the chart a line; add a returns section"])
    dataset_ids: list[str] | None = Field(None, max_length=20, description="new data; default: the parent's")
    formats: list[Format] | None = Field(None, min_length=1)


class JobAccepted(BaseModel):
    id: str
    status: JobStatus


class PlannerInfo(BaseModel):
    name: str | None
    model: str | None
    fallback_reason: str | None


class UsagePublic(BaseModel):
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    requests: int = 0
    cost_usd: float = 0.0


class ErrorPublic(BaseModel):
    code: str
    message: str


class ArtifactFilePublic(BaseModel):
    """One document of a burst (meta.burst), inside the job's zip."""

    name: str
    url: str


class ArtifactPublic(BaseModel):
    format: str  # docx | xlsx | pdf | pptx | zip (a burst: one document per value)
    filename: str
    bytes: int
    url: str
    provenance: dict[str, Any] | None = None  # plan_sha256, datasets (id, version, sha256), docagent_version
    files: list[ArtifactFilePublic] = []  # a burst's documents, in the zip


class PlanCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plan: Any
    dataset_ids: list[str] = Field(default_factory=list, max_length=20)


class PlanProblems(BaseModel):
    ok: bool
    problems: list[str]


class PlanDiffPublic(BaseModel):
    added: list[str]
    removed: list[str]
    changed: list[str]
    meta_changed: list[str]
    metrics_changed: list[str]


class JobPublic(BaseModel):
    id: str
    status: JobStatus
    progress: float
    created_at: Stamp
    started_at: MaybeStamp
    finished_at: MaybeStamp
    prompt: str
    formats: list[str]
    dataset_ids: list[str]
    planner: PlannerInfo
    usage: UsagePublic
    error: ErrorPublic | None
    artifacts: list[ArtifactPublic]
    previews: list[str] = []
    schedule_id: str | None = None
    stage: str | None = None
    parent_id: str | None = None
    instruction: str | None = None
    diff: PlanDiffPublic | None = None  # a revision: what changed from the parent's plan
    brand: str | None = None
    warnings: list[str] = []  # what the render QA pass found in the files and could not fix


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int


class BrandCreate(BaseModel):
    """A brand kit: the fields of a plan's meta.brand."""

    model_config = ConfigDict(extra="forbid")
    primary: str = Field(max_length=16, examples=["#1B2A4A"])
    accent: str = Field(max_length=16, examples=["#F28C28"])
    palette: list[str] = Field(default_factory=list, max_length=20, description="chart colours; else primary, accent")
    font: str | None = Field(None, max_length=100, description="heading font in .docx; the PDF keeps one it embeds")
    logo: str | None = Field(None, max_length=200, description="the name of an image you uploaded")


class BrandPublic(BaseModel):
    name: str
    primary: str
    accent: str
    palette: list[str]
    font: str | None
    logo: str | None
    notes: list[str] = []  # fallbacks recorded, never failures (a font the PDF cannot embed)
    created_at: Stamp
    updated_at: Stamp


class BrandsPublic(BaseModel):
    themes: list[str]  # the theme files a job may name (a kit lays its colours over one)
    data: list[BrandPublic]
    count: int


class DatasetSource(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: str = Field(min_length=1, max_length=200)


class SqlSource(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sql: str = Field(min_length=1, max_length=20_000)
    connection: str = Field(min_length=1, max_length=100)


class ScheduledJob(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str = Field("", max_length=20_000)
    formats: list[Format] = Field(default_factory=lambda: list(ALL_FORMATS), min_length=1)
    planner: Literal["auto", "rules", "llm"] = "auto"
    theme: str | None = None
    brand: str | None = Field(None, max_length=64)
    language: str | None = None
    source: DatasetSource | SqlSource
    template: str | None = Field(
        None, max_length=200, description="a template of yours (kind template) by name; each run takes the newest"
    )
    plan: dict[str, Any] | None = Field(None, description="a frozen plan: each run renders it, no model call")
    from_job: str | None = Field(None, max_length=32, description="freeze this job's plan")
    replan_on_mismatch: bool = Field(False, description="plan from the prompt when fresh data no longer fits")


class ScheduleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    cron: str = Field(min_length=1, max_length=120, examples=["0 8 * * mon"])
    timezone: str = Field("UTC", max_length=64, examples=["Asia/Shanghai"])
    enabled: bool = True
    allow_overlap: bool = False
    webhook_url: AnyHttpUrl | None = None
    job: ScheduledJob


class ScheduleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    cron: str | None = Field(None, max_length=120)
    timezone: str | None = Field(None, max_length=64)
    enabled: bool | None = None
    allow_overlap: bool | None = None
    webhook_url: AnyHttpUrl | None = None
    job: ScheduledJob | None = None


class RunPublic(BaseModel):
    id: str
    fire_time: Stamp
    job_id: str | None
    job_status: JobStatus | None = None
    outcome: str
    late: bool
    manual: bool
    delivery_status: str | None
    delivery_attempts: int
    delivery_error: str | None


class SchedulePublic(BaseModel):
    id: str
    name: str
    cron: str
    timezone: str
    enabled: bool
    allow_overlap: bool
    job: dict[str, Any]
    webhook_url: str | None
    webhook_secret: str | None
    next_fire_at: MaybeStamp
    next_fire_times: list[Stamp]
    last_run: RunPublic | None = None
    created_at: Stamp


class SchedulePreview(BaseModel):
    """What a cron expression means in a zone: in words, and its next fire times (in that zone's offset)."""

    cron: str
    timezone: str
    description: str
    next_fire_times: list[dt.datetime]


class SchedulesPublic(BaseModel):
    data: list[SchedulePublic]
    count: int


class RunsPublic(BaseModel):
    data: list[RunPublic]
    count: int
