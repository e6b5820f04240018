"""The dashboard in real headless Chromium (Debian's package, driven by Playwright) against a live server.

DOCAGENT_SCREENSHOTS=1 also writes the README's screenshots into docs/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from docagent.api.services.jobs import PREVIEW_PAGES
from docagent.service import lifecycle
from docagent.service.store import DatasetRow, session
from docagent.settings import Settings
from tests.conftest import EXAMPLE, ROOT
from tests.service import embedded

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
SHOTS = os.environ.get("DOCAGENT_SCREENSHOTS") == "1"
expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with embedded(tmp_path_factory.mktemp("dash")) as stack:
        yield stack


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.base, accept_downloads=True)
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


def shot(pg, name: str, width: int, full_page: bool = True) -> None:
    if SHOTS:
        pg.set_viewport_size({"width": width, "height": 900 if width > 600 else 844})
        pg.screenshot(path=str(ROOT / "docs" / f"{name}.png"), full_page=full_page)


def test_upload_submit_watch_preview_download(page, tmp_path):
    page.goto("/jobs/new")
    page.set_input_files("#files", str(EXAMPLE))
    card = page.locator(".profile-card")
    card.wait_for(timeout=30_000)
    assert "2,922 rows" in card.text_content() and "order_date" in card.text_content()
    assert page.locator("#draft-list input[type=checkbox]:checked").count() == 1
    page.fill("#prompt", "Quarterly sales report for the leadership team")
    shot(page, "dashboard-new-job", 1280)
    shot(page, "dashboard-new-job-phone", 390)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.click("button[type=submit]")
    page.wait_for_url("**/jobs/*")
    url_before = page.url
    badge = page.locator("#live [data-status]")
    badge.filter(has_text="succeeded").wait_for(timeout=90_000)  # updated in place by server-sent events
    assert page.url == url_before
    img = page.locator(".previews img").first
    img.wait_for(timeout=10_000)
    page.wait_for_function(
        "() => { const i = document.querySelector('.previews img'); return i && i.complete && i.naturalWidth > 0 }"
    )
    for fmt, magic in (("pdf", b"%PDF-"), ("xlsx", b"PK\x03\x04")):
        with page.expect_download() as info:
            page.click(f"a[data-format={fmt}]")
        path = info.value.path()
        assert Path(path).read_bytes()[:5].startswith(magic)
        assert info.value.suggested_filename == f"Quarterly-sales-report-for-the-leadership-team.{fmt}"
    assert page.locator(".outline li").count() > 5
    assert "Planned by the rules planner" in page.locator("#planner-line").inner_text()
    shot(page, "dashboard-job", 1280)
    shot(page, "dashboard-job-phone", 390)
    page.set_viewport_size({"width": 1280, "height": 900})
    check_preview_viewer(page)
    page.goto("/")
    assert page.locator("tbody tr[data-job]").count() >= 1
    assert page.locator("tbody .badge-succeeded").count() >= 1
    shot(page, "dashboard-jobs", 1280)
    shot(page, "dashboard-jobs-phone", 390)
    assert page.problems == []  # type: ignore[attr-defined]


def test_inline_validation_errors(page):
    page.goto("/jobs/new")
    page.click("button[type=submit]")
    assert "Describe the document you want" in page.locator("#prompt-error").inner_text()
    page.set_input_files(
        "#files", files=[{"name": "junk.csv", "mimeType": "text/csv", "buffer": bytes(range(256)) * 8}]
    )
    page.locator("#files-error").filter(has_text="junk.csv: binary data").wait_for(timeout=10_000)
    # the 422 for the bad upload is expected; nothing else may be logged
    assert all("422" in p for p in page.problems), page.problems  # type: ignore[attr-defined]


def test_pages_need_a_session(browser, server):
    context = browser.new_context(base_url=server.base)
    pg = context.new_page()
    pg.goto("/jobs/new")
    assert pg.url.endswith("/login")
    pg.fill("#key", "dak_not-a-key")
    pg.click("button[type=submit]")
    assert "That key is unknown or revoked." in pg.locator("#key-error").inner_text()
    context.close()


def test_every_page_loads_without_console_errors(page, server):
    with server.client() as c, EXAMPLE.open("rb") as f:  # a dataset, so its page is visited too
        stored = c.post("/v1/datasets", files={"file": ("sales.csv", f)})
        assert stored.status_code in (200, 201)  # 200: the same bytes as an earlier test's upload, "unchanged"
    for path in ["/", "/?status=failed", "/jobs/new", "/datasets", "/schedules"]:
        response = page.goto(path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
    page.goto("/datasets")
    page.locator("tbody a[href^='/datasets/']").first.click()
    assert page.locator("h2", has_text="Columns").count() == 1
    assert page.problems == []  # type: ignore[attr-defined]


def test_schedules_page_run_now_and_disable(page, server):
    with server.client() as c, EXAMPLE.open("rb") as f:
        c.post("/v1/datasets", files={"file": ("sales.csv", f)}, data={"name": "weekly-sales"})
        body = {
            "name": "Weekly sales",
            "cron": "0 8 * * mon",
            "timezone": "Asia/Shanghai",
            "job": {"prompt": "Weekly sales", "formats": ["pdf"], "source": {"dataset": "weekly-sales"}},
        }
        assert c.post("/v1/schedules", json=body).status_code == 201
    page.goto("/schedules")
    row = page.locator("tr", has_text="Weekly sales")
    assert "0 8 * * mon" in row.inner_text() and "Asia/Shanghai" in row.inner_text()
    row.get_by_role("button", name="Run now").click()
    page.wait_for_url("**/jobs/*")
    page.locator("#live [data-status]").filter(has_text="succeeded").wait_for(timeout=90_000)
    page.goto("/schedules")
    page.locator("tr", has_text="Weekly sales").get_by_role("button", name="Disable").click()
    assert "disabled" in page.locator("tr", has_text="Weekly sales").inner_text()
    assert page.locator("tr", has_text="Weekly sales").locator(".badge-succeeded").count() == 1
    assert page.problems == []  # type: ignore[attr-defined]


def versions(server, name: str) -> int:
    with server.client() as c:
        return sum(1 for d in c.get("/v1/datasets?limit=200").json()["data"] if d["name"] == name)


def test_picking_a_file_stores_nothing_until_the_job_is_created(page, server, tmp_path):
    data = tmp_path / "picked-only.csv"
    data.write_text("region,sales\nNorth,10\nSouth,20\n")
    page.goto("/jobs/new")
    page.set_input_files("#files", str(data))
    page.locator(".profile-card", has_text="picked-only").wait_for(timeout=30_000)
    page.goto("/")  # leave without submitting
    assert versions(server, "picked-only") == 0
    page.goto("/jobs/new")
    # dropped on the form rather than picked
    page.dispatch_event("#new-job", "drop", {"dataTransfer": drop_transfer(page, data)})
    page.locator(".profile-card", has_text="picked-only").wait_for(timeout=30_000)
    page.fill("#prompt", "Sales by region")
    page.click("button[type=submit]")
    page.wait_for_url("**/jobs/*")
    first = page.url
    assert versions(server, "picked-only") == 1
    page.go_back()
    with page.expect_navigation():
        page.click("button[type=submit]")  # the same form again: no silent duplicate
    assert page.url.split("?")[0] == first
    assert "already submitted" in page.locator(".notice").inner_text()
    assert versions(server, "picked-only") == 1
    assert page.problems == []  # type: ignore[attr-defined]


def drop_transfer(page, path: Path):
    """A DataTransfer holding the file, as the browser builds one for a drop."""
    return page.evaluate_handle(
        """([name, text]) => { const t = new DataTransfer();
           t.items.add(new File([text], name, { type: "text/csv" })); return t; }""",
        [path.name, path.read_text()],
    )


def test_a_prompt_without_data_is_refused_inline_when_no_model_is_configured(page, server):
    page.goto("/jobs/new")
    page.fill("#prompt", "An essay on the history of tea")
    page.uncheck("input[name=formats][value=xlsx]")
    page.click("button[type=submit]")
    assert "upload or choose a dataset" in page.locator("#data-error").inner_text()
    assert page.input_value("#prompt") == "An essay on the history of tea"
    assert not page.is_checked("input[name=formats][value=xlsx]") and page.is_checked("input[name=formats][value=pdf]")
    with server.client() as c:
        assert all(j["prompt"] != "An essay on the history of tea" for j in c.get("/v1/jobs?limit=100").json()["data"])


@pytest.mark.parametrize("width", [360, 390])
def test_no_page_is_wider_than_a_phone(page, server, width):
    with server.client() as c, EXAMPLE.open("rb") as f:
        ds = c.post("/v1/datasets", files={"file": ("phone-sales.csv", f)}).json()
        job = c.post("/v1/jobs", json={"prompt": "Phone check", "dataset_ids": [ds["id"]], "formats": ["pdf"]}).json()
        c.post(
            "/v1/schedules",
            json={
                "name": f"A phone-width schedule with a long name {width}",
                "cron": "30 6 1 * *",
                "timezone": "America/Argentina/Buenos_Aires",
                "job": {"prompt": "Monthly", "formats": ["pdf", "xlsx"], "source": {"dataset": "phone-sales"}},
            },
        )
    page.set_viewport_size({"width": width, "height": 800})
    paths = ["/", "/jobs/new", "/datasets", f"/datasets/{ds['id']}", "/schedules", f"/jobs/{job['id']}", "/login"]
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("domcontentloaded")
        wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert wide[0] <= wide[1], f"{path} is {wide[0]} px wide at {width} px"
        right = page.evaluate(
            """() => Math.max(0, ...[...document.querySelectorAll('main button, main a')]
                 .filter((e) => e.offsetParent && !e.closest('.previews, .profile-card'))
                 .map((e) => e.getBoundingClientRect().right))"""
        )
        assert right <= width, f"a button or link on {path} ends at {right} px, off a {width} px screen"


def test_a_dataset_is_deleted_after_confirming(page, server, tmp_path):
    with server.client() as c:
        c.post("/v1/datasets", files={"file": ("doomed.csv", b"region,sales\nN,1\n")})
    page.goto("/datasets")
    page.get_by_role("link", name="Delete doomed v1").click()
    assert page.locator("h1").inner_text() == "Delete doomed v1?"
    assert versions(server, "doomed") == 1  # asking deleted nothing
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url("**/datasets?deleted=*")
    assert page.locator(".notice").inner_text() == "Deleted doomed v1."
    assert versions(server, "doomed") == 0
    shot(page, "dashboard-datasets", 1280)
    shot(page, "dashboard-datasets-phone", 390)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/datasets/gone-for-good")
    assert page.locator("h1").inner_text() == "Not found" and "dataset" in page.locator("main").inner_text()


def check_preview_viewer(page) -> None:
    """Previews open large in a dialog: arrows move between pages, Esc closes and focus goes back."""
    links = page.locator("a.preview-link")
    assert links.count() >= 2
    assert links.first.get_attribute("href").endswith("/preview/1")  # without JavaScript: the full-size image
    links.first.focus()
    page.keyboard.press("Enter")
    viewer = page.locator("dialog#viewer")
    expect(viewer).to_be_visible()
    n = links.count()

    def title(i: int) -> str:  # "of N" only when N is the document's page count, not the preview cap
        return f"Page {i} (previews show the first {n})" if n >= PREVIEW_PAGES else f"Page {i} of {n}"

    expect(viewer.locator("h2")).to_have_text(title(1))
    big = viewer.locator(".viewer-page img")
    expect(big).to_have_attribute("src", links.first.get_attribute("href"))
    expect(big).to_have_js_property("complete", True)
    assert page.evaluate("() => document.querySelector('#viewer img').naturalWidth") >= 800  # not a thumbnail
    assert big.bounding_box()["width"] > 600
    shot(page, "dashboard-preview", 1280, full_page=False)  # a modal covers the viewport, not the page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.keyboard.press("ArrowRight")
    expect(viewer.locator("h2")).to_have_text(title(2))
    expect(big).to_have_attribute("src", links.nth(1).get_attribute("href"))
    page.keyboard.press("ArrowLeft")
    expect(viewer.locator("h2")).to_have_text(title(1))
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    assert page.evaluate("() => document.activeElement.classList.contains('preview-link')")
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == links.first.get_attribute("href")
    links.first.click()
    expect(viewer).to_be_visible()
    shot(page, "dashboard-preview-phone", 390, full_page=False)
    page.keyboard.press("Escape")
    page.set_viewport_size({"width": 1280, "height": 900})


def owner_and_settings(server) -> tuple[str, Settings]:
    """The signed-in key's owner and the server's settings, to move a job as a worker would."""
    settings = Settings(var_dir=server.var)
    with server.client() as c:
        ds = c.post("/v1/datasets", files={"file": ("owner-probe.csv", b"a\n1\n")}).json()
    with session(settings) as s:
        return s.get(DatasetRow, ds["id"]).owner, settings


def test_the_timeline_follows_the_live_status(page, server):
    owner, settings = owner_and_settings(server)
    job, _ = lifecycle.create_job(
        owner, lifecycle.JobSpec("Timeline check", [], ["pdf"]), settings=settings
    )  # not sent to a worker
    page.goto(f"/jobs/{job.id}")
    badge, current = page.locator("#live [data-status]"), page.locator(".stages li.current span")
    expect(badge).to_have_text("queued")
    expect(current).to_have_text("queued")
    for move, status in ((lifecycle.start_planning, "planning"), (lifecycle.start_rendering, "rendering")):
        with lifecycle.locked(job.id, settings) as row:
            move(row)
        expect(badge).to_have_text(status)  # by server-sent events, no reload
        expect(current).to_have_text(status)
        expect(page.locator(".stages li.done")).to_have_count(2 if status == "planning" else 3)
    with lifecycle.locked(job.id, settings) as row:
        lifecycle.cancel(row)
    expect(badge).to_have_text("canceled")
    expect(page.locator(".stages li.current")).to_have_count(0)
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    assert page.problems == []  # type: ignore[attr-defined]


def test_a_canceled_job_is_retried_then_a_failed_one_deleted_after_confirming(page, server):
    owner, settings = owner_and_settings(server)
    job, _ = lifecycle.create_job(owner, lifecycle.JobSpec("Retry me", [], ["pdf"]), settings=settings)
    with lifecycle.locked(job.id, settings) as row:
        lifecycle.cancel(row)
    page.goto(f"/jobs/{job.id}")
    page.get_by_role("button", name="Retry").click()
    page.wait_for_url(f"**/jobs/{job.id}")
    # no data and no model: the worker takes it again and it fails, as it says
    expect(page.locator("#live [data-status]")).to_have_text("failed", timeout=60_000)
    page.get_by_role("link", name="Delete job…").click()
    expect(page.locator("h1")).to_have_text("Delete this job?")
    with server.client() as c:
        assert c.get(f"/v1/jobs/{job.id}").status_code == 200  # asking deleted nothing
    page.get_by_role("button", name="Delete job").click()
    page.wait_for_url("**/?deleted=*")
    expect(page.locator(".notice")).to_have_text("Deleted the job “Retry me”.")
    expect(page.locator(f'tr[data-job="{job.id}"]')).to_have_count(0)
    with server.client() as c:
        assert c.get(f"/v1/jobs/{job.id}").status_code == 404
    assert page.problems == []  # type: ignore[attr-defined]


def test_the_jobs_list_shows_jobs_made_elsewhere_without_a_reload(page, server):
    page.goto("/")
    marker = page.evaluate("() => { window.notReloaded = true; return true }")
    with server.client() as c, EXAMPLE.open("rb") as f:
        ds = c.post("/v1/datasets", files={"file": ("elsewhere.csv", f)}).json()
        body = {"prompt": "Made through the API", "dataset_ids": [ds["id"]], "formats": ["pdf"]}
        job = c.post("/v1/jobs", json=body).json()
    row = page.locator(f'tr[data-job="{job["id"]}"]')
    expect(row).to_have_count(1, timeout=15_000)
    expect(row.locator(".badge-succeeded")).to_have_count(1, timeout=90_000)
    assert marker and page.evaluate("() => window.notReloaded === true")
    assert page.problems == []  # type: ignore[attr-defined]


def test_no_format_ticked_keeps_every_other_field_and_marks_the_group(page, server):
    with server.client() as c:
        c.post("/v1/datasets", files={"file": ("kept.csv", b"region,sales\nN,1\n")})
    page.goto("/jobs/new")
    page.fill("#prompt", "Keep what I typed")
    for f in ("docx", "xlsx", "pdf"):
        page.uncheck(f"input[name=formats][value={f}]")
    page.locator("#dataset-list label", has_text="kept").locator("input").check()
    page.select_option("#planner", "rules")
    page.click("button[type=submit]")
    expect(page.locator("#formats-error")).to_have_text("Choose at least one format.")
    assert page.input_value("#prompt") == "Keep what I typed" and page.input_value("#planner") == "rules"
    assert page.locator("#dataset-list label", has_text="kept").locator("input").is_checked()
    assert page.locator("#formats").get_attribute("aria-describedby") == "formats-error"
    assert page.locator("#formats input[aria-invalid=true]").count() == 4
    shot(page, "dashboard-new-job-errors", 1280)


def test_a_dataset_page_lists_the_versions_of_its_name(page, server, tmp_path):
    grown = tmp_path / "regional.csv"
    grown.write_text(EXAMPLE.read_text().replace("\n", ",1\n").replace(",1\n", ",returns\n", 1))
    with server.client() as c, EXAMPLE.open("rb") as f:
        c.post("/v1/datasets", files={"file": ("regional.csv", f)}, data={"name": "regional"})
        newest = c.post("/v1/datasets", files={"file": ("regional.csv", grown.read_bytes())}, data={"name": "regional"})
    page.goto("/datasets")
    row = page.locator("tr", has_text="regional")
    expect(row).to_contain_text("2 versions")
    row.get_by_role("link", name="regional", exact=True).click()
    expect(page.locator("h1")).to_have_text("regional v2")
    versions = page.locator("table.versions tbody tr")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("+ returns")
    versions.nth(1).get_by_role("link", name="v1", exact=True).click()
    expect(page.locator("h1")).to_have_text("regional v1")
    assert newest.json()["version"] == 2
    page.goto(f"/datasets/{newest.json()['id']}")
    shot(page, "dashboard-dataset", 1280)
    shot(page, "dashboard-dataset-phone", 390)


def test_a_brand_kit_is_chosen_on_the_new_job_form_and_the_jobs_warnings_are_listed(page, server):
    from playwright.sync_api import expect

    page.goto("/jobs/new")
    assert page.locator("#brand").count() == 0  # no kits yet: no Brand select
    with server.client() as api:
        kit = {"primary": "#1B2A4A", "accent": "#F28C28", "font": "Georgia"}
        assert api.put("/v1/brands/acme", json=kit).status_code in (200, 201)
    page.goto("/jobs/new")
    page.set_input_files("#files", str(EXAMPLE))
    page.locator(".profile-card").wait_for(timeout=30_000)
    page.select_option("#brand", "acme")
    page.fill("#prompt", "Sales in our colours")
    shot(page, "dashboard-new-job-brand", 1280)
    page.click("button[type=submit]")
    page.wait_for_url("**/jobs/*")
    page.locator("#live [data-status]").filter(has_text="succeeded").wait_for(timeout=90_000)
    warnings = page.locator("#warnings")
    expect(warnings).to_contain_text("1 warning from the check before delivery")
    expect(warnings.locator("li")).to_have_text(
        ["brand font 'Georgia': named for Word headings; the PDF uses DejaVu Sans, the font it can embed"]
    )
    shot(page, "dashboard-job-warnings", 1280)
    job_id = page.url.rsplit("/", 1)[-1]
    with server.client() as api:
        assert api.get(f"/v1/jobs/{job_id}").json()["brand"] == "acme"
    expect(page.locator("#live")).to_contain_text("brand acme")
    assert page.problems == []  # type: ignore[attr-defined]
