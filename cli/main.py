"""The `docagent` command line."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from docagent.engine.formats import DEFAULT_FORMATS as FORMATS
from docagent.engine.formats import FORMATS as ALL_FORMATS
from docagent.engine.i18n import supported
from docagent.errors import DocagentError, NothingToPlan

if TYPE_CHECKING:
    from docagent.settings import Settings

# Each command imports the pipeline, renderers, QA pass and database when it runs, not at start: `--help`,
# `schema` and `plan` stay quick (tests/test_startup.py pins what `--help` loads).

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Plan and render documents from data.")
err = Console(stderr=True)

DataArg = Annotated[list[Path] | None, typer.Argument(help="CSV, TSV, XLSX, JSON, NDJSON or Parquet files")]
PromptOpt = Annotated[str, typer.Option("--prompt", "-p", help="What the document should be")]
PlannerOpt = Annotated[str, typer.Option(help="auto | rules | llm")]
ThemeOpt = Annotated[str | None, typer.Option(help="theme name from templates/themes")]
TemplateOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--template",
        help="an organisation's .docx, .pptx or .xlsx template to fill or write in (meta.template names it); "
        "repeatable",
    ),
]
LangOpt = Annotated[
    str | None,
    typer.Option(help=f"one of {', '.join(supported())}; default: the prompt's language (or the data's), else en"),
]


def _settings() -> Settings:
    from docagent.settings import get_settings  # pydantic-settings alone takes 0.2 s to import

    return get_settings()


@app.callback()
def _check_settings() -> None:
    _settings()  # a bad DOCAGENT_ variable fails before any command starts (--help needs none)


def _fail(e: DocagentError) -> None:
    err.print(f"[bold red]error:[/] {e}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


FORMAT_HELP = "comma-separated: " + ",".join(ALL_FORMATS)


@app.command(name="generate")
def generate_cmd(
    data: DataArg = None,
    prompt: PromptOpt = "",
    format: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = ",".join(FORMATS),
    out: Annotated[Path, typer.Option(help="output folder")] = Path("out"),
    planner: PlannerOpt = "auto",
    theme: ThemeOpt = None,
    language: LangOpt = None,
    template: TemplateOpt = None,
) -> None:
    """Run the whole pipeline and print the path of each file written."""
    from docagent.pipeline.generate import generate

    formats = [f.strip().lower().lstrip(".") for f in format.split(",") if f.strip()]
    try:
        with err.status("working…") as status:
            outcome = generate(
                data or [],
                prompt,
                formats,
                out,
                planner,
                theme,
                language,
                progress=lambda stage, _: status.update(stage + "…"),
                templates=template or [],
            )
    except DocagentError as e:
        _fail(e)
        return
    p = outcome.planned
    if p.fallback_reason:
        err.print(f"planner fell back to rules: {p.fallback_reason}", highlight=False)
    for warning in outcome.warnings:
        err.print(f"warning: {warning}", highlight=False, markup=False)
    for path in outcome.files.values():
        print(path)


@app.command(name="render")
def render_cmd(
    plan: Annotated[Path, typer.Argument(help="a plan as JSON (see `docagent schema`)")],
    data: DataArg = None,
    format: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = ",".join(FORMATS),
    out: Annotated[Path, typer.Option(help="output folder")] = Path("out"),
    theme: ThemeOpt = None,
    template: TemplateOpt = None,
) -> None:
    """Validate a plan file against the data and render it, no planner involved."""
    from docagent.pipeline.generate import render_plan

    formats = [f.strip().lower().lstrip(".") for f in format.split(",") if f.strip()]
    try:
        plan_data = json.loads(plan.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        err.print(f"[bold red]error:[/] cannot read plan {str(plan)!r}: {e}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    try:
        files = render_plan(plan_data, data or [], formats, out, theme, templates=template or [])
    except DocagentError as e:
        _fail(e)
        return
    for path in files.values():
        print(path)


@app.command(name="plan")
def plan_cmd(
    data: DataArg = None,
    prompt: PromptOpt = "",
    planner: PlannerOpt = "auto",
    theme: ThemeOpt = None,
    language: LangOpt = None,
    template: TemplateOpt = None,
) -> None:
    """Print the validated plan as JSON (and the model usage on stderr)."""
    from docagent.engine.data.catalog import Catalog
    from docagent.pipeline.generate import load, plan_job

    try:
        with Catalog() as catalog:
            profiles, refs = load(catalog, data or [], templates=template or [])
            planned = plan_job(catalog, profiles, prompt, refs, planner, theme, language)
    except DocagentError as e:
        _fail(e)
        return
    print(planned.plan.model_dump_json(indent=2))
    u = planned.usage
    line = (
        f"planner={planned.planner} model={planned.model or '-'} requests={u.requests} "
        f"input_tokens={u.input_tokens} cached_tokens={u.cached_tokens} "
        f"output_tokens={u.output_tokens} reasoning_tokens={u.reasoning_tokens} "
        f"repairs={u.repairs} cost_usd={u.cost_usd:.6f}"
    )
    if planned.fallback_reason:
        line += f" fallback={planned.fallback_reason!r}"
    err.print(line, highlight=False, soft_wrap=True)


@app.command(name="revise")
def revise_cmd(
    plan: Annotated[Path, typer.Argument(help="the plan to revise (JSON)", exists=True, dir_okay=False)],
    data: DataArg = None,
    instruction: Annotated[str, typer.Option("--instruction", "-i", help="what to change")] = "",
    theme: ThemeOpt = None,
    language: LangOpt = None,
) -> None:
    """Ask the model to change a plan as the instruction says; print the new plan (the diff on stderr)."""
    from docagent.engine.data.catalog import Catalog
    from docagent.engine.planfile import diff, parse
    from docagent.pipeline.generate import load, revise_plan

    if not instruction.strip():
        err.print("[bold red]error:[/] --instruction is required: say what to change", highlight=False)
        raise typer.Exit(2)
    try:
        previous = parse(json.loads(plan.read_text(encoding="utf-8")))
        with Catalog() as catalog:
            profiles, refs = load(catalog, data or [])
            planned = revise_plan(catalog, profiles, previous, instruction, refs, theme, language)
    except json.JSONDecodeError as e:
        err.print(f"[bold red]error:[/] {plan}: not JSON ({e})", highlight=False)
        raise typer.Exit(2) from None
    except DocagentError as e:
        _fail(e)
        return
    print(planned.plan.model_dump_json(indent=2))
    changes = diff(previous, planned.plan)
    for kind in ("added", "removed", "changed"):
        for what in getattr(changes, kind):
            err.print(f"{kind}: {what}", highlight=False, soft_wrap=True)
    err.print(f"requests={planned.usage.requests} input_tokens={planned.usage.input_tokens}", highlight=False)


@app.command(name="profile")
def profile_cmd(data: Annotated[list[Path], typer.Argument(help="data files")]) -> None:
    """Print each dataset's profile as JSON."""
    from docagent.engine.data.catalog import Catalog
    from docagent.engine.data.references import is_reference
    from docagent.pipeline.generate import load

    try:
        with Catalog() as catalog:
            profiles, _ = load(catalog, [p for p in data if not is_reference(p)])
            images = [
                {"image": name, "format": img.kind, "width": img.width, "height": img.height}
                for name, img in catalog.images.items()
            ]
    except DocagentError as e:
        _fail(e)
        return
    if not profiles and not images:  # only reference documents: nothing a profile describes
        _fail(NothingToPlan("no data or image files given: a profile describes tables (CSV, XLSX, ...) and images"))
        return
    print(json.dumps([p.model_dump(mode="json") for p in profiles] + images, indent=2, ensure_ascii=False))


@app.command(name="schema")
def schema_cmd() -> None:
    """Print the plan's JSON Schema (strict mode, for constrained decoding)."""
    from docagent.engine.schema import plan_schema_json

    print(plan_schema_json())


@app.command(name="serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="embedded worker threads (no broker configured)")] = 2,
    force: Annotated[bool, typer.Option(help="allow DOCAGENT_AUTH=off on a non-loopback address")] = False,
) -> None:
    """Run the API and dashboard; with no broker configured, also an embedded worker."""
    import os
    import signal

    import uvicorn

    from docagent.cli.children import Children
    from docagent.service.store import migrate

    settings = _settings()
    loopback = host in ("127.0.0.1", "localhost", "::1")
    if settings.auth == "off" and not loopback and not force:
        err.print(
            f"error: DOCAGENT_AUTH=off on {host} would let anyone on the network use this server; "
            "bind to 127.0.0.1, turn auth on, or pass --force",
            highlight=False,
        )
        raise typer.Exit(2)
    migrate(settings)
    children = Children(STOP_S)
    # uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, which would skip a `finally`:
    # these handlers run then, so the embedded worker and scheduler never outlive the server.
    signal.signal(signal.SIGTERM, children.stop)
    signal.signal(signal.SIGINT, children.stop)
    if not settings.broker_url:  # embedded: this command runs the worker and the scheduler too
        env = os.environ.copy()
        children.start(worker_argv("plan,render", "threads", workers), env)
        children.start(beat_argv(), env)
        err.print(f"embedded worker and scheduler started; data under {settings.var_dir.resolve()}")
    try:
        uvicorn.run("docagent.api.app:app", host=host, port=port, log_level="warning")
    finally:
        children.stop()


CELERY = [sys.executable, "-m", "celery", "-A", "docagent.workers.app"]
STOP_S = 20  # how long `serve` gives its embedded worker and scheduler to stop, together


def worker_argv(queues: str, pool: str, concurrency: int) -> list[str]:
    opts = ["-Q", queues, "--pool", pool, "--concurrency", str(concurrency), "--loglevel", "INFO"]
    return [*CELERY, "worker", *opts, "--without-gossip", "--without-mingle"]


def beat_argv() -> list[str]:
    return [*CELERY, "beat", "-S", "docagent.workers.beat:DatabaseScheduler", "--loglevel", "INFO"]


@app.command(name="beat")
def beat_cmd() -> None:
    """Run the scheduler standalone (the compose stack's `beat` service)."""
    import os

    from docagent.service.store import migrate

    migrate(_settings())
    os.execv(sys.executable, beat_argv())


keys = typer.Typer(no_args_is_help=True, help="API keys (each key is an owner).")
app.add_typer(keys, name="keys")


@keys.command(name="create")
def keys_create(name: Annotated[str, typer.Option(help="the key's name; it owns what the key creates")]) -> None:
    """Create a key and print it once, as the last word of the output."""
    from docagent.errors import InvalidApiKey
    from docagent.service.keys import create_key
    from docagent.service.store import migrate

    settings = _settings()
    migrate(settings)
    try:
        key = create_key(name, settings)
    except InvalidApiKey as e:
        _fail(e)
        return
    err.print("Store this key now; it is not shown again.", highlight=False)
    print(f"{name} {key}")


@keys.command(name="list")
def keys_list() -> None:
    """List keys (name, prefix, created, revoked)."""
    from docagent.service.keys import list_keys
    from docagent.service.store import migrate

    settings = _settings()
    migrate(settings)
    for k in list_keys(settings):
        revoked = f"revoked {k.revoked_at.isoformat()}" if k.revoked_at else "active"
        print(f"{k.name}  {k.prefix}…  created {k.created_at.isoformat()}  {revoked}")


@keys.command(name="revoke")
def keys_revoke(name: str) -> None:
    """Revoke a key: its requests and dashboard sessions stop working at once."""
    from docagent.errors import InvalidApiKey
    from docagent.service.keys import revoke_key

    try:
        revoke_key(name, _settings())
    except InvalidApiKey as e:
        _fail(e)
        return
    print(f"{name} revoked")


OwnerOpt = Annotated[str | None, typer.Option(help="owner: an API key's name (default: DOCAGENT_OWNER, 'local')")]

schedules = typer.Typer(no_args_is_help=True, help="Scheduled report jobs.")
app.add_typer(schedules, name="schedules")


@schedules.command(name="list")
def schedules_list(owner: OwnerOpt = None) -> None:
    """List schedules with their next fire time and last run."""
    from sqlalchemy import select

    from docagent.service.store import RunRow, ScheduleRow, migrate, session

    settings = _settings()
    migrate(settings)
    with session(settings) as s:
        rows = list(s.scalars(select(ScheduleRow).where(ScheduleRow.owner == (owner or settings.owner))))
        for r in rows:
            last = s.scalars(select(RunRow).where(RunRow.schedule_id == r.id).order_by(RunRow.fire_time.desc())).first()
            state = "enabled" if r.enabled else "disabled"
            nxt = r.next_fire_at.isoformat() if r.next_fire_at else "-"
            outcome = last.outcome if last else "-"
            print(f"{r.id}  {r.name!r}  {r.cron!r} {r.timezone}  {state}  next={nxt}  last={outcome}")


@schedules.command(name="add")
def schedules_add(
    name: Annotated[str, typer.Option(help="schedule name")],
    cron: Annotated[str, typer.Option(help="five-field cron, e.g. '0 8 * * mon'")],
    prompt: PromptOpt = "",
    timezone: Annotated[str, typer.Option(help="IANA time zone")] = "UTC",
    dataset: Annotated[str | None, typer.Option(help="source: the latest upload with this dataset name")] = None,
    sql: Annotated[str | None, typer.Option(help="source: a read-only query")] = None,
    connection: Annotated[str | None, typer.Option(help="connection name for --sql (DOCAGENT_CONNECTIONS)")] = None,
    format: Annotated[str, typer.Option("--format", "-f")] = ",".join(FORMATS),
    webhook: Annotated[str | None, typer.Option(help="URL that receives each run's signed result")] = None,
    from_job: Annotated[
        str | None, typer.Option("--from-job", help="freeze this job's plan: each run renders it, no model call")
    ] = None,
    replan_on_mismatch: Annotated[
        bool, typer.Option(help="with --from-job: plan again from the prompt when the data no longer fits")
    ] = False,
    owner: OwnerOpt = None,
) -> None:
    """Create a schedule; prints its id and next fire times."""
    from docagent.errors import InvalidSchedule
    from docagent.service.cron import upcoming
    from docagent.service.schedules import create_schedule
    from docagent.service.store import migrate, now

    settings = _settings()
    migrate(settings)
    source = {"dataset": dataset} if dataset else {"sql": sql, "connection": connection}
    job: dict[str, Any] = {"prompt": prompt, "formats": [f.strip() for f in format.split(",")], "source": source}
    if from_job:
        job |= {"from_job": from_job, "replan_on_mismatch": replan_on_mismatch}
    try:
        row = create_schedule(
            owner or settings.owner,
            {"name": name, "cron": cron, "timezone": timezone, "job": job, "webhook_url": webhook},
        )
    except InvalidSchedule as e:
        _fail(e)
        return
    print(row.id)
    for t in upcoming(row.cron, row.timezone, now(), 3):
        err.print(f"fires at {t.isoformat()}", highlight=False)


@schedules.command(name="run")
def schedules_run(schedule_id: str, owner: OwnerOpt = None) -> None:
    """Run a schedule now; prints the job id."""
    from docagent.api.services.schedules import run

    settings = _settings()
    try:
        started = run(schedule_id, owner or settings.owner, settings)
    except DocagentError as e:
        _fail(e)
        return
    print(started.job_id or started.outcome)


@schedules.command(name="disable")
def schedules_disable(schedule_id: str, owner: OwnerOpt = None) -> None:
    """Stop a schedule from firing (its history stays)."""
    from docagent.service.schedules import update_schedule

    settings = _settings()
    try:
        update_schedule(schedule_id, owner or settings.owner, {"enabled": False}, settings)
    except DocagentError as e:
        _fail(e)
        return
    print(f"{schedule_id} disabled")


@app.command(name="worker")
def worker_cmd(
    queues: Annotated[str, typer.Option(help="plan, render or both")] = "plan,render",
    pool: Annotated[str, typer.Option(help="threads for the I/O-bound plan queue, prefork for render")] = "threads",
    concurrency: Annotated[int, typer.Option(help="threads or processes")] = 4,
) -> None:
    """Run a Celery worker (the same tasks as the embedded one)."""
    import os

    os.execv(sys.executable, worker_argv(queues, pool, concurrency))


def main() -> None:
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    app()


if __name__ == "__main__":
    main()
