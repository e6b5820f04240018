"""The job page's plan tools in headless Chromium: revise, edit and render, schedule this."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from docagent.engine.llm.fake import FakeModel, FakeServer
from tests.service import Stack, embedded, wait_status
from tests.test_dashboard import CHROMIUM, browser  # noqa: F401  (the shared browser fixture)
from tests.test_plan_templates import answer, sales_csv

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeModel]:
    model = FakeModel(*[answer] * 20)
    server = FakeServer(model)
    model.url = server.url  # type: ignore[attr-defined]
    yield model
    server.close()


@pytest.fixture(scope="module")
def server(fake, tmp_path_factory) -> Iterator[Stack]:
    with embedded(
        tmp_path_factory.mktemp("dash-plans"), DOCAGENT_LLM_BASE_URL=fake.url, DOCAGENT_LLM_AGENTIC="off"
    ) as s:
        yield s


@pytest.fixture(scope="module")
def job(server) -> dict[str, Any]:
    """A finished job planned by the (fake) model from a prompt."""
    with server.client() as c:
        content, _ = sales_csv(quarters=2)
        ds = c.post("/v1/datasets", files={"file": ("sales.csv", content, "text/csv")}, data={"name": "sales"}).json()
        body = {"prompt": "Units by region", "dataset_ids": [ds["id"]], "planner": "llm", "formats": ["pdf"]}
        job_id = c.post("/v1/jobs", json=body).json()["id"]
        done = wait_status(c, job_id, {"succeeded", "failed"})
    assert done["status"] == "succeeded", done["error"]
    return done


@pytest.fixture
def page(browser, server):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.base)
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    pg.problems = problems  # type: ignore[attr-defined]
    pg.goto("/login")
    pg.fill("#key", server.key)
    pg.click("button[type=submit]")
    pg.wait_for_url(server.base + "/")
    yield pg
    context.close()


def wait_finished(page) -> None:
    page.wait_for_selector("[data-status]:is(.badge-succeeded, .badge-failed)", timeout=120_000)
    assert page.locator("[data-status]").first.text_content() == "succeeded"


def test_revise_from_the_job_page_reaches_a_finished_child_with_its_diff(page, job):
    page.goto(f"/jobs/{job['id']}")
    page.fill("#instruction", "make the chart a line; add returns")
    page.click("#revise-form button")
    page.wait_for_url(lambda url: "/jobs/" in url and job["id"] not in url)
    wait_finished(page)
    assert page.locator("#parent-link").get_attribute("href") == f"/jobs/{job['id']}"
    diff = page.locator("ul.diff").text_content()
    assert "changed block 3 (chart 'Units by region')" in " ".join(diff.split())
    assert "added block 4 (heading 'Returns')" in " ".join(diff.split())
    assert page.problems == []  # type: ignore[attr-defined]


def test_plan_editor_shows_problems_inline_then_renders_a_valid_edit(page, server, job):
    page.goto(f"/jobs/{job['id']}")
    page.click("#plan-editor summary")
    editor = page.locator("#plan-text")
    plan = json.loads(editor.input_value())
    broken = json.loads(json.dumps(plan))
    broken["blocks"][2]["query"]["select"][0]["column"] = "territory"
    editor.fill(json.dumps(broken, indent=2))
    problem = page.locator("#plan-problems li").first
    problem.wait_for(timeout=30_000)
    assert "'territory' does not exist in 'sales'" in problem.text_content()
    assert page.locator("#render-plan").is_disabled()
    editor.fill("{not json")
    # locator assertions, not wait_for_function: the page's CSP forbids evaluating strings
    expect(page.locator("#plan-problems li").first).to_have_text(re.compile(r"^not JSON"))
    plan["blocks"][2]["kind"] = "line"
    editor.fill(json.dumps(plan, indent=2))
    expect(page.locator("#plan-problems li")).to_have_count(0)
    assert page.locator("#render-plan").is_enabled()
    page.click("#render-plan")
    page.wait_for_url(lambda url: "/jobs/" in url and job["id"] not in url)
    wait_finished(page)
    with server.client() as c:
        rendered = c.get("/v1/jobs/" + page.url.rsplit("/", 1)[1]).json()
    assert rendered["planner"]["name"] == "given" and rendered["usage"]["requests"] == 0
    assert page.problems == []  # type: ignore[attr-defined]


def test_schedule_this_creates_a_frozen_schedule(page, server, job):
    page.goto(f"/jobs/{job['id']}")
    page.fill("#cron", "0 7 * * tue")
    page.fill("#timezone", "Asia/Shanghai")
    page.click("#schedule-form button")
    page.wait_for_url("**/schedules/*?done=created")  # the new schedule's own page
    assert "Regional sales" in page.content()
    with server.client() as c:
        (sched,) = [s for s in c.get("/v1/schedules").json()["data"] if s["job"].get("from_job") == job["id"]]
    assert sched["cron"] == "0 7 * * tue" and sched["timezone"] == "Asia/Shanghai"
    assert sched["job"]["source"] == {"dataset": "sales"} and sched["job"]["plan"]["meta"]["title"] == "Regional sales"
    page.goto(f"/jobs/{job['id']}")
    page.fill("#cron", "every monday")
    page.click("#schedule-form button")
    assert "every monday" in page.locator("#cron-error").text_content()


def test_a_refused_revision_is_said_at_its_field_with_focus_there(page, job):
    page.goto(f"/jobs/{job['id']}")
    page.click("#revise-form button")  # nothing said about what should change
    expect(page.locator("#revise-error")).to_contain_text("Say what should change")
    assert page.evaluate("() => document.activeElement.id") == "instruction"  # not at the top, 1,200 px above
    expect(page.locator("#instruction")).to_be_in_viewport()
