"""Schedules in real headless Chromium: create with a live cron preview, run now and watch the history,
edit, disable and enable, delete after confirming; frozen schedules from a job; phone widths.

DOCAGENT_SCREENSHOTS=1 also writes the schedule form's and page's screenshots into docs/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import EXAMPLE
from tests.service import Stack, embedded, wait_status
from tests.test_dashboard import CHROMIUM, browser, page, shot  # noqa: F401  (shared browser and signed-in page)
from tests.test_schedules import Receiver, receiving

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


@pytest.fixture(scope="module")
def hook() -> Iterator[str]:
    """A webhook receiver on loopback that accepts every delivery."""
    with receiving("/reports", fail_first=0) as url:
        yield url


@pytest.fixture(scope="module")
def server(tmp_path_factory, hook) -> Iterator[Stack]:
    # the receiver listens on loopback, which the webhook guard refuses unless an operator allows it
    with embedded(tmp_path_factory.mktemp("dash-sched"), DOCAGENT_WEBHOOK_ALLOW='["127.0.0.1/32"]') as stack:
        with stack.client() as c, EXAMPLE.open("rb") as f:
            assert c.post("/v1/datasets", files={"file": ("sales.csv", f)}, data={"name": "weekly-sales"}).is_success
        yield stack


def fits(pg, width: int) -> None:
    """No sideways scroll, and every button and link on screen."""
    pg.set_viewport_size({"width": width, "height": 800})
    wide = pg.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert wide[0] <= wide[1], f"{pg.url} is {wide[0]} px wide at {width} px"
    right = pg.evaluate(
        """() => Math.max(0, ...[...document.querySelectorAll('main button, main a, main input, main select')]
             .filter((e) => e.offsetParent).map((e) => e.getBoundingClientRect().right))"""
    )
    assert right <= width, f"a control on {pg.url} ends at {right} px, off a {width} px screen"


def test_create_run_edit_disable_and_delete_a_schedule(page, server, hook):  # noqa: F811
    page.goto("/schedules")
    expect(page.locator(".empty-state h2")).to_have_text("No schedules yet")
    page.get_by_role("link", name="Create a schedule").click()
    page.wait_for_url("**/schedules/new")
    page.fill("#name", "Weekly sales")
    expect(page.locator("#cron-words")).to_contain_text("At 08:00, only on Monday (UTC)")  # rendered by the server
    page.fill("#timezone", "Asia/Shanghai")
    expect(page.locator("#cron-words")).to_contain_text("(Asia/Shanghai)")  # updated as you type
    page.fill("#cron", "0 9 * * 1-5")
    expect(page.locator("#cron-words")).to_have_text("At 09:00, Monday through Friday (Asia/Shanghai)")
    expect(page.locator("#cron-times li")).to_have_count(5)
    expect(page.locator("#cron-times li").first).to_contain_text("09:00 UTC+08:00")
    assert page.input_value("#dataset") == "weekly-sales"
    page.fill("#prompt", "Weekly sales by region")
    page.check("input[name=formats][value=xlsx]")
    page.select_option("#planner", "rules")
    page.fill("#webhook_url", hook)
    shot(page, "dashboard-schedule-edit", 1280)
    shot(page, "dashboard-schedule-edit-phone", 390)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Create schedule").click()
    page.wait_for_url("**/schedules/*?done=created")
    expect(page.locator(".notice")).to_have_text("Schedule created.")
    expect(page.locator("h1")).to_contain_text("Weekly sales")
    expect(page.locator(".times li")).to_have_count(5)

    page.get_by_role("button", name="Run now").click()
    page.wait_for_url("**?done=run")
    history = page.locator("tbody[data-runs] tr[data-run]")
    expect(history).to_have_count(1)
    expect(history.locator("td").first).to_contain_text("run now")
    # the history follows the job and its webhook without a reload
    expect(history.locator(".badge")).to_have_text("succeeded", timeout=120_000)
    expect(history.locator(".delivery")).to_have_text("delivered", timeout=60_000)
    expect(history).to_contain_text("1 attempt")
    assert len(Receiver.calls) == 1
    job_link = history.locator("a[href^='/jobs/']")
    schedule_url = page.url.split("?")[0]

    page.get_by_role("link", name="Edit").click()
    expect(page.locator("#cron")).to_have_value("0 9 * * 1-5")
    expect(page.locator("#webhook_url")).to_have_value(hook)
    page.fill("#cron", "30 6 1 * *")
    expect(page.locator("#cron-words")).to_have_text("At 06:30, on day 1 of the month (Asia/Shanghai)")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url("**?done=saved")
    expect(page.locator(".facts")).to_contain_text("At 06:30, on day 1 of the month")
    expect(page.locator(".facts code").first).to_have_text("30 6 1 * *")
    expect(job_link).to_have_count(1)  # the history stays with the schedule

    page.get_by_role("button", name="Disable").click()
    page.wait_for_url("**?done=disabled")
    expect(page.locator("h1 .badge")).to_have_text("disabled")
    expect(page.locator("#next-h + p")).to_contain_text("Disabled")
    page.get_by_role("button", name="Enable").click()
    page.wait_for_url("**?done=enabled")
    expect(page.locator("h1 .badge")).to_have_text("enabled")
    shot(page, "dashboard-schedule", 1280)
    shot(page, "dashboard-schedule-phone", 390)

    for width in (360, 390):
        for path in ["/schedules", "/schedules/new", schedule_url, schedule_url + "/edit", schedule_url + "/delete"]:
            page.goto(path)
            fits(page, width)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(schedule_url)
    page.get_by_role("link", name="Delete").click()
    expect(page.locator("h1")).to_have_text("Delete the schedule “Weekly sales”?")
    with server.client() as c:
        assert c.get("/v1/schedules").json()["count"] == 1  # asking deleted nothing
    page.get_by_role("button", name="Delete schedule").click()
    page.wait_for_url("**/schedules?deleted=*")
    expect(page.locator(".notice")).to_have_text("Deleted the schedule “Weekly sales”.")
    expect(page.locator(".empty-state h2")).to_have_text("No schedules yet")
    assert page.problems == []  # type: ignore[attr-defined]


def test_the_form_shows_its_problems_inline_and_keeps_what_was_typed(page):  # noqa: F811
    page.goto("/schedules/new")
    page.fill("#cron", "0 8 * * someday")
    expect(page.locator("#cron")).to_have_attribute("aria-invalid", "true")  # as you type
    expect(page.locator("#cron-error")).to_contain_text("invalid cron expression")
    page.fill("#prompt", "Kept as typed")
    page.uncheck("input[name=formats][value=pdf]")
    page.get_by_role("button", name="Create schedule").click()
    expect(page.locator("#name-error")).to_contain_text("Give the schedule a name")
    expect(page.locator("#name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#formats-error")).to_have_text("Choose at least one format.")
    expect(page.locator("#cron")).to_have_value("0 8 * * someday")
    expect(page.locator("#prompt")).to_have_value("Kept as typed")
    assert page.locator("fieldset", has=page.locator("input[name=formats]")).locator("legend").inner_text() == "Formats"
    # the live preview's 422s are answers, not errors; nothing else may be logged
    assert all("422" in p for p in page.problems), page.problems  # type: ignore[attr-defined]


def test_a_schedule_made_from_a_job_shows_its_frozen_plan(page, server):  # noqa: F811
    with server.client() as c:
        ds = c.get("/v1/datasets").json()["data"][0]
        job = c.post("/v1/jobs", json={"prompt": "Sales", "dataset_ids": [ds["id"]], "formats": ["pdf"]}).json()
        assert wait_status(c, job["id"], {"succeeded", "failed"})["status"] == "succeeded"
    page.goto(f"/jobs/{job['id']}")
    page.fill("#cron", "0 7 * * tue")
    page.fill("#timezone", "Europe/Paris")
    page.click("#schedule-form button")
    page.wait_for_url("**/schedules/*?done=created")
    page.goto("/schedules")
    row = page.locator("tr", has=page.locator(".chip", has_text="frozen plan"))
    expect(row).to_contain_text("At 07:00, only on Tuesday")
    row.locator("td a").first.click()
    expect(page.locator(".facts")).to_contain_text("frozen from job")
    expect(page.locator(f".facts a[href='/jobs/{job['id']}']")).to_have_count(1)
    page.get_by_role("link", name="Edit").click()
    expect(page.locator(".notice")).to_contain_text("frozen plan")
    page.get_by_role("button", name="Save changes").click()  # the plan survives an edit
    page.wait_for_url("**?done=saved")
    with server.client() as c:
        (frozen,) = [s for s in c.get("/v1/schedules").json()["data"] if s["job"].get("from_job") == job["id"]]
    assert frozen["job"]["plan"]["blocks"]
    assert page.problems == []  # type: ignore[attr-defined]
