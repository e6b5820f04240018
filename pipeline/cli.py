"""The `docagent` command line."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from docagent.data.references import is_reference
from docagent.errors import DocagentError
from docagent.schema import plan_schema_json
from docagent.settings import get_settings
from pipeline.generate import FORMATS, generate, load, plan_job

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Plan and render documents from data.")
err = Console(stderr=True)

DataArg = Annotated[list[Path] | None, typer.Argument(help="CSV, TSV, XLSX, JSON, NDJSON or Parquet files")]
PromptOpt = Annotated[str, typer.Option("--prompt", "-p", help="What the document should be")]
PlannerOpt = Annotated[str, typer.Option(help="auto | rules | llm")]
ThemeOpt = Annotated[str | None, typer.Option(help="theme name from templates/themes")]
LangOpt = Annotated[str | None, typer.Option(help="language code; default: guessed from the prompt")]


def _fail(e: DocagentError) -> None:
    err.print(f"[bold red]error:[/] {e}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.command(name="generate")
def generate_cmd(
    data: DataArg = None,
    prompt: PromptOpt = "",
    format: Annotated[str, typer.Option("--format", "-f", help="comma-separated: docx,xlsx,pdf")] = ",".join(FORMATS),
    out: Annotated[Path, typer.Option(help="output folder")] = Path("out"),
    planner: PlannerOpt = "auto",
    theme: ThemeOpt = None,
    language: LangOpt = None,
) -> None:
    """Run the whole pipeline and print the path of each file written."""
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
            )
    except DocagentError as e:
        _fail(e)
        return
    p = outcome.planned
    if p.fallback_reason:
        err.print(f"planner fell back to rules: {p.fallback_reason}", highlight=False)
    for path in outcome.files.values():
        print(path)


@app.command(name="plan")
def plan_cmd(
    data: DataArg = None,
    prompt: PromptOpt = "",
    planner: PlannerOpt = "auto",
    theme: ThemeOpt = None,
    language: LangOpt = None,
) -> None:
    """Print the validated plan as JSON (and the model usage on stderr)."""
    from docagent.data.catalog import Catalog

    try:
        with Catalog() as catalog:
            profiles, refs = load(catalog, data or [])
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


@app.command(name="profile")
def profile_cmd(data: Annotated[list[Path], typer.Argument(help="data files")]) -> None:
    """Print each dataset's profile as JSON."""
    from docagent.data.catalog import Catalog

    try:
        with Catalog() as catalog:
            profiles, _ = load(catalog, [p for p in data if not is_reference(p)])
    except DocagentError as e:
        _fail(e)
        return
    print(json.dumps([p.model_dump(mode="json") for p in profiles], indent=2, ensure_ascii=False))


@app.command(name="schema")
def schema_cmd() -> None:
    """Print the plan's JSON Schema (strict mode, for constrained decoding)."""
    print(plan_schema_json())


@app.command(name="serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="embedded worker threads (no broker configured)")] = 2,
) -> None:
    """Run the API and dashboard; with no broker configured, also an embedded worker."""
    import os
    import subprocess

    import uvicorn

    from docagent.store import migrate

    settings = get_settings()
    migrate(settings)
    child = None
    if not settings.broker_url:
        child = subprocess.Popen(worker_argv("plan,render", "threads", workers), env=os.environ.copy())
        err.print(f"embedded worker started (pid {child.pid}); data under {settings.var_dir.resolve()}")
    try:
        uvicorn.run("api.app:app", host=host, port=port, log_level="warning")
    finally:
        if child is not None:
            child.terminate()
            child.wait(timeout=20)


def worker_argv(queues: str, pool: str, concurrency: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.app",
        "worker",
        "-Q",
        queues,
        "--pool",
        pool,
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
    ]


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
    get_settings()
    app()


if __name__ == "__main__":
    main()
