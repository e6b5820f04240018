"""Every dashboard page passes axe-core (pinned in package-lock.json) with no serious or critical violation,
at desktop and phone width (360 px), tap-target size included.

axe is injected into the page, which the dashboard's Content-Security-Policy rightly forbids: only this
test's browser context bypasses the CSP.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from docagent.service import lifecycle
from docagent.service.store import DatasetRow, session
from docagent.settings import Settings
from tests.conftest import EXAMPLE, ROOT
from tests.test_dashboard import CHROMIUM, browser, server  # noqa: F401  (fixtures)

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
expect = pytest.importorskip("playwright.sync_api").expect
SERIOUS = ("serious", "critical")


def install_axe() -> None:
    """`npm ci` once, as the README's test command promises no manual step: package-lock.json pins axe-core."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip(
            f"npm is not installed, so axe-core ({AXE.relative_to(ROOT)}) cannot be installed from package-lock.json"
        )
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0 or not AXE.exists():
        pytest.fail(f"`npm ci` in {ROOT} did not install axe-core (exit {done.returncode}):\n{done.stderr[-2000:]}")


@pytest.fixture(scope="module")
def axe() -> str:
    if not AXE.exists():
        install_axe()
    return AXE.read_text()


@pytest.fixture(scope="module")
def site(server, axe):  # noqa: F811  (axe first: no point building pages that cannot be checked)
    """Data behind every page: a succeeded and a failed job, datasets, a schedule; and a key with nothing."""
    with server.client() as c, EXAMPLE.open("rb") as f:
        ds = c.post("/v1/datasets", files={"file": ("sales.csv", f)}, data={"name": "sales"}).json()
        job = c.post("/v1/jobs", json={"prompt": "Sales review", "dataset_ids": [ds["id"]], "formats": ["pdf"]})
        ok = job.json()["id"]
        schedule = {
            "name": "Weekly sales",
            "cron": "0 8 * * mon",
            "timezone": "Europe/Paris",
            "job": {"prompt": "Weekly sales", "formats": ["pdf"], "source": {"dataset": "sales"}},
        }
        made = c.post("/v1/schedules", json=schedule)
        assert made.status_code == 201
        settings = Settings(var_dir=server.var)
        with session(settings) as s:
            owner = s.get(DatasetRow, ds["id"]).owner
        failed, _ = lifecycle.create_job(
            owner, lifecycle.JobSpec("A report that broke", [ds["id"]], ["pdf"]), settings=settings
        )
        with lifecycle.locked(failed.id, settings) as row:
            lifecycle.fail(row, "render_failed", "the chart's column 'margin' does not exist")
        for _ in range(180):
            if c.get(f"/v1/jobs/{ok}").json()["status"] in lifecycle.FINAL:
                break
            time.sleep(0.5)
        assert c.get(f"/v1/jobs/{ok}").json()["status"] == "succeeded"
    return {
        "dataset": ds["id"],
        "succeeded": ok,
        "failed": failed.id,
        "schedule": made.json()["id"],
        "empty_key": server.create_key("nobody"),
    }


def violations(pg, where: str, axe: str) -> list[str]:
    pg.add_script_tag(content=axe)
    # target-size (WCAG 2.2's 24 x 24 px) is off by default in axe: a phone user taps these pages too
    result = pg.evaluate(
        "async () => await axe.run(document, { resultTypes: ['violations'], rules: { 'target-size': { enabled: true } } })"
    )
    return [
        f"{where}: {v['id']} ({v['impact']}) {v['help']} at {json.dumps([n['target'] for n in v['nodes']][:4])}"
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]


def signed_in(browser, server, key: str, width: int):  # noqa: F811
    context = browser.new_context(
        viewport={"width": width, "height": 900},
        base_url=server.base,
        bypass_csp=True,  # for axe only
    )
    pg = context.new_page()
    pg.goto("/login")
    pg.fill("#key", key)
    pg.click("button[type=submit]")
    pg.wait_for_url(server.base + "/")
    return context, pg


@pytest.mark.parametrize("width", [1280, 360])
def test_every_dashboard_page_has_no_serious_accessibility_violation(browser, server, axe, site, width):  # noqa: F811
    found: list[str] = []
    context = browser.new_context(viewport={"width": width, "height": 900}, base_url=server.base, bypass_csp=True)
    pg = context.new_page()
    pg.goto("/login")
    found += violations(pg, "login", axe)
    pg.fill("#key", "dak_wrong")
    pg.click("button[type=submit]")
    found += violations(pg, "login with an error", axe)
    context.close()

    context, pg = signed_in(browser, server, site["empty_key"], width)
    found += violations(pg, "jobs (empty)", axe)
    pg.goto("/schedules")
    found += violations(pg, "schedules (empty)", axe)
    context.close()

    context, pg = signed_in(browser, server, server.key, width)
    pages = {
        "jobs": "/",
        "jobs filtered": "/?status=failed",
        "new job": "/jobs/new",
        "job succeeded": f"/jobs/{site['succeeded']}",
        "job failed": f"/jobs/{site['failed']}",
        "delete job": f"/jobs/{site['failed']}/delete",
        "datasets": "/datasets",
        "dataset": f"/datasets/{site['dataset']}",
        "schedules": "/schedules",
        "new schedule": "/schedules/new",
        "schedule": f"/schedules/{site['schedule']}",
        "edit schedule": f"/schedules/{site['schedule']}/edit",
        "delete schedule": f"/schedules/{site['schedule']}/delete",
        "error page": "/datasets/no-such-dataset",
        "unknown address": "/no/such/page",
    }
    for name, path in pages.items():
        pg.goto(path)
        pg.wait_for_load_state("networkidle")
        found += violations(pg, name, axe)
    pg.goto(f"/jobs/{site['succeeded']}")
    pg.locator("a.preview-link").first.click()
    expect(pg.locator("dialog#viewer")).to_be_visible()
    found += violations(pg, "preview viewer", axe)
    pg.goto("/jobs/new")
    pg.set_input_files("#files", str(EXAMPLE))
    pg.locator(".profile-card").wait_for(timeout=30_000)
    found += violations(pg, "new job with a profile preview", axe)
    for f in ("docx", "xlsx", "pdf"):
        pg.uncheck(f"input[name=formats][value={f}]")
    pg.click("button[type=submit]")
    expect(pg.locator("#formats-error")).not_to_be_empty()
    found += violations(pg, "new job with errors", axe)
    pg.goto("/schedules/new")
    pg.fill("#cron", "0 8 * * someday")
    pg.uncheck("input[name=formats][value=pdf]")
    pg.click("button[type=submit]")
    expect(pg.locator("#name-error")).not_to_be_empty()
    found += violations(pg, "new schedule with errors", axe)
    context.close()
    assert not found, f"{len(found)} serious or critical violations at {width} px:\n" + "\n".join(found)
