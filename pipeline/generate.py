"""The whole job in-process: ingest, profile, plan, validate, bind, draw, render.

The CLI calls this directly; Celery tasks call the same steps by job id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from docagent.engine import i18n
from docagent.engine.bind import Bound, bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.data.profile import Profile, add_joins, profile
from docagent.engine.data.references import is_reference, load_references
from docagent.engine.formats import DEFAULT_FORMATS as FORMATS
from docagent.engine.formatting import slug
from docagent.engine.plan import Plan, is_templated
from docagent.engine.planfile import check
from docagent.engine.planners import Planned, Planner, PlanRequest, RulesPlanner
from docagent.engine.themes import theme_names
from docagent.engine.validate import schema_problems, validate
from docagent.errors import PlanError, PlannerError, RenderError
from docagent.settings import Settings, get_settings

Progress = Callable[[str, float], None]


@dataclass
class Outcome:
    planned: Planned
    files: dict[str, Path]
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # what the QA pass found and could not fix


def guess_language(prompt: str, profiles: Sequence[Profile] = ()) -> str:
    """The prompt's language when it is clear, else the data's (column names and common values), else English."""
    hints = [
        text
        for p in profiles
        for c in p.columns
        for text in (c.name, *(v for v, _ in c.top[:3] if isinstance(v, str) and not v.isdigit()))
    ]
    return i18n.detect(prompt, hints)


def make_planner(name: str, settings: Settings) -> Planner:
    if name == "rules" or (name == "auto" and not settings.llm_base_url):
        return RulesPlanner()
    if not settings.llm_base_url:  # never let the SDK fall back to a public endpoint
        raise PlannerError("the llm planner needs a model endpoint: set DOCAGENT_LLM_BASE_URL (see README)")
    from docagent.engine.planners.llm import LLMPlanner  # only when a model is configured

    return LLMPlanner(settings)


def load(
    catalog: Catalog,
    paths: Sequence[Path | str],
    settings: Settings | None = None,
    templates: Sequence[Path | str] = (),
) -> tuple[list[Profile], list[str]]:
    """Datasets into the catalog (their profiles), templates (checked), reference documents as condensed text."""
    settings = settings or get_settings()
    for t in templates:
        catalog.add_template(t)
    profiles, refs = [], []
    for p in map(Path, paths):
        if is_reference(p):
            refs.append(p)
            continue
        for ds in catalog.ingest(p):
            profiles.append(profile(catalog, ds))
    add_joins(catalog, profiles)
    return profiles, load_references(refs, settings.reference_token_budget)


def plan_job(
    catalog: Catalog,
    profiles: list[Profile],
    prompt: str,
    references: list[str] | None = None,
    planner: str = "auto",
    theme: str | None = None,
    language: str | None = None,
    settings: Settings | None = None,
) -> Planned:
    settings = settings or get_settings()
    if theme and theme not in theme_names():  # the caller's choice: say so before any planning
        raise RenderError(f"unknown theme {theme!r}; available: {', '.join(theme_names())}")
    lang = i18n.check_language(language) or guess_language(prompt, profiles)
    request = PlanRequest(prompt, profiles, catalog, lang, theme, references or [])
    planned = make_planner(planner, settings).plan(request)
    if theme:
        planned.plan.meta.theme = theme
    validate(planned.plan, catalog)
    return planned


def given_plan(catalog: Catalog, data: object, theme: str | None = None) -> Planned:
    """A plan supplied by a person or a frozen schedule: checked against the data, no model call."""
    plan = check(data, catalog)
    if theme:
        plan.meta.theme = theme
    return Planned(plan, "given")


def revise_plan(
    catalog: Catalog,
    profiles: list[Profile],
    previous: Plan,
    instruction: str,
    references: list[str] | None = None,
    theme: str | None = None,
    language: str | None = None,
    settings: Settings | None = None,
) -> Planned:
    """Ask the model to change `previous` as the instruction says; checked and repaired as usual."""
    settings = settings or get_settings()
    planner = make_planner("llm", settings)  # a revision needs the model: no rules fallback
    lang = i18n.check_language(language) or previous.meta.language
    request = PlanRequest(instruction, profiles, catalog, lang, theme, references or [], previous=previous)
    planned = planner.plan(request)
    if theme:
        planned.plan.meta.theme = theme
    validate(planned.plan, catalog)
    return planned


def render_job(
    bound: Bound, out_dir: Path, formats: Sequence[str], theme: str | None, settings: Settings
) -> tuple[dict[str, Path], dict[str, float]]:
    from docagent.renderers import render_all  # the format libraries load when a job renders, not to plan

    name = theme or bound.plan.meta.theme or settings.default_theme
    out_dir.mkdir(parents=True, exist_ok=True)
    return render_all(bound, name, out_dir, slug(bound.plan.meta.title), formats)


def generate(
    paths: Sequence[Path | str],
    prompt: str,
    formats: Sequence[str] = FORMATS,
    out_dir: Path = Path("out"),
    planner: str = "auto",
    theme: str | None = None,
    language: str | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    templates: Sequence[Path | str] = (),
) -> Outcome:
    settings = settings or get_settings()
    note = progress or (lambda stage, frac: None)
    timings: dict[str, float] = {}
    with Catalog(settings=settings) as catalog:
        t = time.perf_counter()
        note("Reading the data", 0.05)
        profiles, refs = load(catalog, paths, settings, templates)
        timings["ingest"] = time.perf_counter() - t
        note("Planning", 0.2)  # progress words for the console, not job states
        t = time.perf_counter()
        planned = plan_job(catalog, profiles, prompt, refs, planner, theme, language, settings)
        timings["plan"] = time.perf_counter() - t
        note("Rendering", 0.6)
        t = time.perf_counter()
        if is_templated(planned.plan):  # a filled template, or one document per burst value
            from docagent.pipeline.templated import render_templated  # its renderers load on use

            written = render_templated(planned.plan, catalog, out_dir, formats, theme, settings)
            files, bound, checked = written.files, written.bound, written.checked
            timings.update(written.timings)
        else:
            bound = bind(planned.plan, catalog)
            timings["bind"] = time.perf_counter() - t
    if not is_templated(planned.plan):
        files, render_times = render_job(bound, out_dir, formats, theme, settings)
        timings.update(render_times)
        checked = files
    note("Checking the files", 0.95)
    t = time.perf_counter()
    from docagent.renderers.qa import check as qa_check

    warnings = qa_check(checked, bound)
    timings["qa"] = time.perf_counter() - t
    note("Done", 1.0)
    return Outcome(planned, files, timings, warnings)


def render_plan(
    plan_data: object,
    paths: Sequence[Path | str],
    formats: Sequence[str] = FORMATS,
    out_dir: Path = Path("out"),
    theme: str | None = None,
    settings: Settings | None = None,
    templates: Sequence[Path | str] = (),
) -> dict[str, Path]:
    """Validate a finished plan against the data and render it: no planner involved."""
    settings = settings or get_settings()
    found = schema_problems(plan_data)
    if found:
        raise PlanError(found)
    plan = Plan.model_validate(plan_data)
    with Catalog(settings=settings) as catalog:
        load(catalog, paths, settings, templates)
        validate(plan, catalog)
        if is_templated(plan):  # a burst: the zip, then each document written beside it
            from docagent.pipeline.templated import render_templated

            written = render_templated(plan, catalog, out_dir, formats, theme, settings)
            return {**written.files, **{f"burst/{n}": out_dir / "burst" / n for n in written.members}}
        bound = bind(plan, catalog)
    files, _ = render_job(bound, out_dir, formats, theme, settings)
    return files
