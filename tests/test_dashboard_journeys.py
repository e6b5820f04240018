"""A first-time user's journeys through the dashboard in headless Chromium, on a server with no model:
each once ended in a false message, an error out of sight, or a job accepted only to fail.

DOCAGENT_JOURNEY_SHOTS=DIR also writes each page it checks, at 1280 and 360 px, into DIR.
"""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from docagent.service import lifecycle
from docagent.service.store import DatasetRow, JobRow, session
from docagent.settings import Settings
from tests.conftest import EXAMPLE
from tests.test_dashboard import CHROMIUM, browser, page, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
expect = pytest.importorskip("playwright.sync_api").expect
SHOTS = os.environ.get("DOCAGENT_JOURNEY_SHOTS")


def shot(pg, name: str) -> None:
    if SHOTS:
        for width in (1280, 360):
            pg.set_viewport_size({"width": width, "height": 900})
            pg.screenshot(path=str(Path(SHOTS) / f"{name}-{width}.png"), full_page=True)
        pg.set_viewport_size({"width": 1280, "height": 900})


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "#1B2A4A").save(out, "PNG")
    return out.getvalue()


def focused(pg) -> str:
    return str(pg.evaluate("() => document.activeElement && document.activeElement.id"))


@pytest.fixture(scope="module")
def site(server) -> dict[str, Any]:  # noqa: F811
    """A finished French report in the corporate theme with the kit "acme", and a job that failed before planning."""
    with server.client() as c, EXAMPLE.open("rb") as f:
        ds = c.post("/v1/datasets", files={"file": ("sales.csv", f)}, data={"name": "sales"}).json()
        kit = {"primary": "#1B2A4A", "accent": "#F28C28"}
        assert c.put("/v1/brands/acme", json=kit).status_code == 201
        body = {
            "prompt": "Rapport des ventes",
            "dataset_ids": [ds["id"]],
            "formats": ["pdf"],
            "theme": "corporate",
            "language": "fr",
            "brand": "acme",
        }
        ok = c.post("/v1/jobs", json=body).json()["id"]
        settings = Settings(var_dir=server.var)
        with session(settings) as s:
            owner = s.get(DatasetRow, ds["id"]).owner
        failed, _ = lifecycle.create_job(
            owner, lifecycle.JobSpec("A report that broke", [ds["id"]], ["pdf"]), settings=settings
        )
        with lifecycle.locked(failed.id, settings) as row:
            lifecycle.fail(row, "invalid_brand", "the brand kit cannot be used")
        for _ in range(240):
            if c.get(f"/v1/jobs/{ok}").json()["status"] in lifecycle.FINAL:
                break
            time.sleep(0.5)
        assert c.get(f"/v1/jobs/{ok}").json()["status"] == "succeeded"
    return {"dataset": ds["id"], "succeeded": ok, "failed": failed.id, "settings": settings}


def test_a_logo_picked_in_new_job_is_previewed_as_an_image(page):  # noqa: F811
    page.goto("/jobs/new")
    assert ".png" in page.get_attribute("#files", "accept")
    page.set_input_files("#files", files=[{"name": "logo.png", "mimeType": "image/png", "buffer": png(40, 20)}])
    card = page.locator(".image-card")
    card.wait_for(timeout=30_000)
    expect(card.locator("figcaption")).to_have_text("logo.png · PNG image · 40 × 20 px")
    expect(card.locator("img")).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    expect(page.locator("#draft-list li")).to_contain_text("image · logo.png · not saved yet")
    expect(page.locator("#files-error")).to_be_empty()
    shot(page, "new-job-logo")
    assert page.problems == []  # type: ignore[attr-defined]


def test_no_model_means_no_model_planner_no_revise_and_a_failure_is_not_green(page, site):  # noqa: F811
    page.goto("/jobs/new")
    assert page.locator("#planner option").all_inner_texts() == ["auto", "rules"]
    page.goto(f"/jobs/{site['succeeded']}")
    expect(page.locator("#revise-form")).to_have_count(0)
    page.goto(f"/jobs/{site['failed']}")
    last = page.locator(".stages li").last
    expect(last).to_have_class("ended-failed")
    assert page.evaluate("e => getComputedStyle(e).backgroundColor", last.element_handle()) != "rgb(243, 251, 247)"
    expect(page.locator("#planner-line")).to_have_text("No planner ran: the job ended before planning.")
    shot(page, "job-failed")


def test_schedule_this_with_a_bad_zone_keeps_what_was_typed_and_says_so_at_the_field(page, site):  # noqa: F811
    page.goto(f"/jobs/{site['succeeded']}")
    page.fill("#cron", "0 7 * * tue")
    page.fill("#timezone", "Mars/Olympus")
    page.click("#schedule-form button")
    expect(page.locator("#timezone-error")).to_contain_text("Mars/Olympus")
    assert not page.locator("#timezone-error").inner_text().lower().startswith("timezone")
    expect(page.locator("#cron")).to_have_value("0 7 * * tue")
    expect(page.locator("#timezone")).to_have_value("Mars/Olympus")
    assert focused(page) == "timezone"
    assert page.locator("#timezone").bounding_box()["y"] < 900  # scrolled to, not 1,200 px below
    shot(page, "job-schedule-error")


def test_a_bad_file_then_submit_still_says_what_was_wrong_with_the_file(page):  # noqa: F811
    page.goto("/jobs/new")
    junk = {"name": "junk.csv", "mimeType": "text/csv", "buffer": bytes(range(256)) * 8}
    page.set_input_files("#files", files=[junk])
    page.locator("#files-error").filter(has_text="junk.csv: binary data").wait_for(timeout=10_000)
    page.fill("#prompt", "Sales by region")
    page.click("button[type=submit]")
    expect(page.locator("#files-error")).to_contain_text("junk.csv: binary data")
    expect(page.locator("#data-error")).to_contain_text("the file above could not be read")
    assert "DOCAGENT_" not in page.locator("main").inner_text()
    expect(page.locator("#prompt")).to_have_value("Sales by region")
    assert focused(page) == "files"
    shot(page, "new-job-errors")


def test_a_too_long_prompt_is_answered_under_the_prompt_with_focus_there(page, site):  # noqa: F811
    page.goto("/jobs/new")
    page.check(f"input[name=dataset_ids][value='{site['dataset']}']")
    page.fill("#prompt", "x" * 40_000)
    page.click("button[type=submit]")
    expect(page.locator("#prompt-error")).to_contain_text("40,000 characters")
    assert focused(page) == "prompt"
    assert len(page.input_value("#prompt")) == 40_000


def test_sign_in_shows_no_navigation_and_focuses_the_key(browser, server):  # noqa: F811
    context = browser.new_context(viewport={"width": 360, "height": 800}, base_url=server.base)
    pg = context.new_page()
    pg.goto("/login")
    expect(pg.locator("nav")).to_have_count(0)
    assert focused(pg) == "key"
    shot(pg, "login")
    pg.fill("#key", server.key)
    pg.click("button[type=submit]")
    pg.wait_for_url(server.base + "/")
    signout = pg.locator("header .signout button")
    expect(signout).to_have_text("Sign out")
    box = signout.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24
    pg.goto("/no/such/page")
    expect(pg.locator("h1")).to_have_text("Page not found")
    expect(pg.locator("main")).not_to_contain_text("Not Found")
    shot(pg, "not-found")
    context.close()


def test_the_job_page_shows_placeholders_as_chips_and_no_false_page_count(page, site):  # noqa: F811
    page.goto(f"/jobs/{site['succeeded']}")
    outline = page.locator(".outline")
    assert outline.locator(".chip").count() > 0
    assert "{" not in outline.inner_text()
    links = page.locator("a.preview-link")
    links.last.click()
    title = page.locator("dialog#viewer h2").inner_text()
    assert title != f"Page {links.count()} of {links.count()}"  # the PDF has more pages than its previews
    page.keyboard.press("Escape")
    shot(page, "job-succeeded")


def test_edit_and_render_keeps_the_brand_theme_and_language(page, site):  # noqa: F811
    page.goto(f"/jobs/{site['succeeded']}")
    page.locator("#plan-editor summary").click()
    page.click("#render-plan")
    page.wait_for_url(lambda url: "/jobs/" in url and site["succeeded"] not in url)
    child = page.url.rsplit("/", 1)[1]
    with session(site["settings"]) as s:
        row = s.get(JobRow, child)
        assert (row.brand, row.theme, row.language) == ("acme", "corporate", "fr")
