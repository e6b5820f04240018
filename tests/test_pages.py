"""Dashboard pages in-process (no browser): they call the same services as the JSON routes."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from docagent.service import lifecycle
from docagent.service.storage import get_storage
from docagent.service.store import ArtifactRow, JobRow, session
from docagent.settings import get_settings
from tests.conftest import EXAMPLE


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """Job ids handed to the queue (no broker in these tests)."""
    ids: list[str] = []
    monkeypatch.setattr("docagent.api.services.jobs.enqueue", ids.append)
    monkeypatch.setattr("docagent.api.services.schedules.enqueue", ids.append)
    return ids


@pytest.fixture
def client(tmp_path, monkeypatch, sent):
    monkeypatch.setenv("DOCAGENT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DOCAGENT_AUTH", "off")
    get_settings.cache_clear()
    from docagent.api.app import create_app

    # auth off answers loopback only; forms come from this server's own pages (Origin)
    base = "http://127.0.0.1"
    with TestClient(
        create_app(), base_url=base, client=("127.0.0.1", 50000), headers={"Origin": base}, follow_redirects=False
    ) as c:
        yield c


def token(client: TestClient) -> dict[str, str]:
    """The CSRF field every form on a page carries."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/jobs/new").text)
    assert found
    return {"csrf_token": found.group(1)}


def failed_job() -> str:
    settings = get_settings()
    job, _ = lifecycle.create_job(settings.owner, lifecycle.JobSpec("A report", [], ["pdf"]), settings=settings)
    with lifecycle.locked(job.id, settings) as row:
        lifecycle.fail(row, "boom", "it broke")
    return job.id


@pytest.mark.parametrize("path", ["/", "/?status=failed", "/?status=nonsense", "/jobs/new", "/datasets", "/schedules"])
def test_every_page_renders(client, path):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text


def test_a_failed_job_page_offers_retry_and_retry_queues_it(client, sent):
    job_id = failed_job()
    page = client.get(f"/jobs/{job_id}").text
    assert "This job failed." in page and "it broke" in page and f"/jobs/{job_id}/retry" in page
    assert client.get("/?status=failed").text.count(f'data-job="{job_id}"') == 1
    r = client.post(f"/jobs/{job_id}/retry", data=token(client))
    assert r.status_code == 303 and r.headers["location"] == f"/jobs/{job_id}" and sent == [job_id]
    assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"


def test_cancelling_a_finished_job_from_a_page_is_a_conflict_problem(client):
    r = client.post(f"/jobs/{failed_job()}/cancel", data=token(client))
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    assert r.json()["detail"] == "the job has already failed"


def test_the_new_job_form_names_what_is_missing(client, sent):
    r = client.post("/jobs/new", data={"prompt": " ", **token(client)})
    assert (
        r.status_code == 422 and "Describe the document you want" in r.text and "Choose at least one format" in r.text
    )
    assert sent == []


def test_the_new_job_form_uploads_and_submits(client, sent):
    with EXAMPLE.open("rb") as f:
        r = client.post(
            "/jobs/new",
            data={"prompt": "Sales review", "formats": ["pdf"], **token(client)},
            files={"files": ("sales.csv", f)},
        )
    assert r.status_code == 303 and r.headers["location"] == f"/jobs/{sent[0]}"
    assert client.get("/v1/datasets").json()["count"] == 1


def test_a_bad_upload_on_the_form_is_shown_not_raised(client, sent):
    r = client.post(
        "/jobs/new", data={"prompt": "x", "formats": ["pdf"], **token(client)}, files={"files": ("list.json", b"[1]")}
    )
    assert r.status_code == 422 and "list.json: JSON is not records" in r.text and sent == []


def test_an_unknown_job_page_is_not_found(client):
    assert client.get("/jobs/nope").status_code == 404


def test_without_a_session_pages_send_the_browser_to_login(client, monkeypatch):
    monkeypatch.setenv("DOCAGENT_AUTH", "on")
    get_settings.cache_clear()
    r = client.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.post("/login", data={"key": "dak_wrong"}).status_code == 401


def test_a_picked_file_is_a_draft_until_the_job_is_created(client, sent):
    with EXAMPLE.open("rb") as f:
        draft = client.post("/v1/drafts", files={"file": ("sales.csv", f)}).json()
    assert draft["rows"] == 2922 and "order_date" in [c["name"] for c in draft["columns"]]
    assert client.get("/v1/datasets").json()["count"] == 0  # previewing stores no version
    form = {"prompt": "Sales review", "formats": ["pdf"], "draft_ids": [draft["id"]], "idempotency_key": "form-1"}
    form |= token(client)
    r = client.post("/jobs/new", data=form)
    assert r.status_code == 303 and r.headers["location"] == f"/jobs/{sent[0]}"
    stored = client.get("/v1/datasets").json()
    assert stored["count"] == 1 and stored["data"][0]["name"] == "sales"
    assert client.get(f"/v1/jobs/{sent[0]}").json()["dataset_ids"] == [stored["data"][0]["id"]]
    assert client.get(f"/v1/drafts/{draft['id']}").status_code == 404  # used up
    again = client.post("/jobs/new", data=form)  # back, then submit the same form again
    assert again.headers["location"] == f"/jobs/{sent[0]}?resubmitted=1" and len(sent) == 1
    assert "already submitted" in client.get(again.headers["location"]).text
    assert client.get("/v1/datasets").json()["count"] == 1


def test_a_refused_form_keeps_its_draft_and_stores_nothing(client, sent):
    with EXAMPLE.open("rb") as f:
        draft = client.post("/v1/drafts", files={"file": ("sales.csv", f)}).json()
    r = client.post(
        "/jobs/new", data={"prompt": "Sales", "draft_ids": [draft["id"]], "language": "zh", **token(client)}
    )
    assert r.status_code == 422 and "Choose at least one format" in r.text
    assert f'name="draft_ids" value="{draft["id"]}" checked' in r.text
    assert '<option value="zh" selected>' in r.text
    assert client.get("/v1/datasets").json()["count"] == 0 and sent == []


def test_a_job_refused_at_the_limit_takes_back_the_version_its_file_made_and_keeps_the_draft(client, sent, monkeypatch):
    with EXAMPLE.open("rb") as f:
        draft = client.post("/v1/drafts", files={"file": ("sales.csv", f)}).json()
    monkeypatch.setenv("DOCAGENT_MAX_CONCURRENT_JOBS", "1")
    get_settings.cache_clear()
    settings = get_settings()
    lifecycle.create_job(
        settings.owner, lifecycle.JobSpec("A report", [], ["pdf"]), settings=settings
    )  # the one it may run
    form = {"prompt": "Sales", "formats": ["pdf"], "draft_ids": [draft["id"]], **token(client)}
    r = client.post("/jobs/new", data=form)
    assert r.status_code == 422 and "at most 1 per key run at once" in r.text and sent == []
    assert client.get("/v1/datasets").json()["count"] == 0  # the version made for the job is taken back
    assert client.get(f"/v1/drafts/{draft['id']}").status_code == 200  # offered again on the form
    assert f'name="draft_ids" value="{draft["id"]}" checked' in r.text


def test_save_as_dataset_stores_one_version(client):
    with EXAMPLE.open("rb") as f:
        draft = client.post("/v1/drafts", files={"file": ("sales.csv", f)}).json()
    saved = client.post(f"/v1/drafts/{draft['id']}/dataset", data={"name": "weekly"})
    assert saved.status_code == 201 and saved.json()["name"] == "weekly" and saved.json()["version"] == 1
    assert client.get("/v1/datasets").json()["count"] == 1


def test_unused_drafts_are_deleted_after_their_time_to_live(client):
    from docagent.api.services import drafts

    with EXAMPLE.open("rb") as f:
        draft = client.post("/v1/drafts", files={"file": ("sales.csv", f)}).json()
    settings = get_settings()
    assert drafts.sweep(settings) == 0
    assert drafts.sweep(settings, now=time.time() + settings.draft_ttl_s + 1) == 1
    assert client.get(f"/v1/drafts/{draft['id']}").status_code == 404


def test_a_prompt_without_data_or_model_is_refused_before_queueing(client, sent):
    r = client.post("/v1/jobs", json={"prompt": "An essay on tea", "formats": ["pdf"]})
    assert r.status_code == 422 and r.json()["code"] == "nothing_to_plan"
    assert "no model is configured on this server" in r.json()["detail"]
    form = {"prompt": "An essay on tea", "formats": ["docx"], "theme": "corporate", "planner": "rules", **token(client)}
    page = client.post("/jobs/new", data=form)
    assert page.status_code == 422 and "upload or choose a dataset" in page.text
    assert "An essay on tea</textarea>" in page.text and 'value="docx" checked' in page.text
    assert '<option value="rules" selected>' in page.text and "<option selected>corporate</option>" in page.text
    # an image is no data for the rules planner
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
    image = client.post("/v1/datasets", files={"file": ("logo.svg", svg, "image/svg+xml")}).json()
    r = client.post("/v1/jobs", json={"prompt": "An essay on tea", "dataset_ids": [image["id"]]})
    assert r.status_code == 422 and r.json()["code"] == "nothing_to_plan"
    assert sent == [] and client.get("/v1/jobs").json()["count"] == 0


def test_a_prompt_without_data_is_accepted_when_a_model_is_configured(client, sent, monkeypatch):
    monkeypatch.setenv("DOCAGENT_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    get_settings.cache_clear()
    assert client.post("/v1/jobs", json={"prompt": "An essay on tea", "formats": ["pdf"]}).status_code == 202
    refused = client.post("/v1/jobs", json={"prompt": "An essay on tea", "planner": "rules"})
    assert refused.status_code == 422 and "the rules planner needs data" in refused.json()["detail"]
    assert len(sent) == 1


HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.mark.parametrize(
    ("path", "title"),
    [("/jobs/nope", "Not found"), ("/datasets/nope", "Not found"), ("/no-such-page", "Page not found")],
)
def test_a_browser_gets_an_error_page_on_the_dashboard_and_json_on_v1(client, path, title):
    r = client.get(path, headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert f"<h1>{title}</h1>" in r.text and 'href="/"' in r.text
    api = client.get("/v1/jobs/nope", headers=HTML)
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"


def test_deleting_a_dataset_asks_first_then_says_what_went(client):
    with EXAMPLE.open("rb") as f:
        ds = client.post("/v1/datasets", files={"file": ("sales.csv", f)}).json()
    assert f'href="/datasets/{ds["id"]}/delete"' in client.get("/datasets").text  # a link to a question, not a POST
    ask = client.get(f"/datasets/{ds['id']}/delete")
    assert "Delete sales v1?" in ask.text and f'action="/datasets/{ds["id"]}/delete"' in ask.text
    assert client.get("/v1/datasets").json()["count"] == 1
    done = client.post(f"/datasets/{ds['id']}/delete", data=token(client))
    assert done.status_code == 303
    assert "Deleted sales v1." in client.get(done.headers["location"]).text
    assert client.get("/v1/datasets").json()["count"] == 0


def finished_job(status: str, formats: tuple[str, ...] = ("pdf",)) -> str:
    """A job that ended as `status`, with a stored PDF and one preview page when it succeeded."""
    settings = get_settings()
    job, _ = lifecycle.create_job(
        settings.owner, lifecycle.JobSpec(f"A {status} report", [], list(formats)), settings=settings
    )
    with lifecycle.locked(job.id, settings) as row:
        if status == "canceled":
            lifecycle.cancel(row)
        elif status == "failed":
            lifecycle.fail(row, "boom", "it broke")
        elif status == "succeeded":
            lifecycle.start_planning(row)
            lifecycle.start_rendering(row)
            lifecycle.succeed(row)
            row.previews = 1
    if status == "succeeded":
        storage, src = get_storage(settings), settings.var_dir / "file.bin"
        src.write_bytes(b"%PDF-1.7 test")
        for key in (f"jobs/{job.id}/pdf", f"jobs/{job.id}/preview-1.png"):
            storage.put(key, src)
        with session(settings) as s:
            s.add(
                ArtifactRow(job_id=job.id, format="pdf", filename="a.pdf", bytes=13, storage_key=f"jobs/{job.id}/pdf")
            )
    return job.id


def job_files(job_id: str) -> list[str]:
    folder = get_settings().var_dir / "storage" / "jobs" / job_id
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("status", ["succeeded", "failed", "canceled"])
def test_a_finished_job_is_deleted_with_its_files_and_its_datasets_stay(client, status):
    with EXAMPLE.open("rb") as f:
        ds = client.post("/v1/datasets", files={"file": ("sales.csv", f)}).json()
    job_id = finished_job(status)
    with session(get_settings()) as s:
        s.get(JobRow, job_id).dataset_ids = [ds["id"]]
    if status == "succeeded":
        assert job_files(job_id) == ["pdf", "preview-1.png"]
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
    assert client.get(f"/v1/jobs/{job_id}").status_code == 404
    assert job_files(job_id) == []
    assert client.get(f"/v1/datasets/{ds['id']}").status_code == 200
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 404


def test_a_queued_job_cannot_be_deleted(client):
    settings = get_settings()
    job, _ = lifecycle.create_job(settings.owner, lifecycle.JobSpec("Still waiting", [], ["pdf"]), settings=settings)
    r = client.delete(f"/v1/jobs/{job.id}")
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert (
        r.json()["code"] == "illegal_transition"
        and r.json()["detail"] == "a queued job cannot be deleted; cancel it first"
    )
    assert client.get(f"/v1/jobs/{job.id}").json()["status"] == "queued"
    assert "/delete" not in client.get(f"/jobs/{job.id}").text  # no Delete button on an unfinished job


def test_deleting_a_job_from_its_page_asks_first_then_says_what_went(client):
    job_id = finished_job("failed")
    page = client.get(f"/jobs/{job_id}").text
    assert f'href="/jobs/{job_id}/delete"' in page  # a link to a question, not a POST
    ask = client.get(f"/jobs/{job_id}/delete")
    assert "Delete this job?" in ask.text and f'action="/jobs/{job_id}/delete"' in ask.text
    assert client.get(f"/v1/jobs/{job_id}").status_code == 200  # asking deleted nothing
    done = client.post(f"/jobs/{job_id}/delete", data=token(client))
    assert done.status_code == 303 and done.headers["location"].startswith("/?deleted=")
    assert "Deleted the job “A failed report”." in client.get(done.headers["location"]).text
    assert client.get(f"/v1/jobs/{job_id}").status_code == 404


def test_a_canceled_job_offers_retry_and_retry_queues_it_again(client, sent):
    job_id = finished_job("canceled")
    assert f'action="/jobs/{job_id}/retry"' in client.get(f"/jobs/{job_id}").text
    r = client.post(f"/jobs/{job_id}/retry", data=token(client))
    assert r.status_code == 303 and sent == [job_id]
    assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"
    api = client.post(f"/v1/jobs/{finished_job('canceled')}/retry")
    assert api.status_code == 202 and api.json()["status"] == "queued"
    refused = client.post(f"/v1/jobs/{finished_job('succeeded')}/retry")
    assert refused.status_code == 409 and "only a failed or canceled job" in refused.json()["detail"]


def test_a_dataset_page_lists_every_version_of_its_name_with_column_changes(client):
    first = client.post("/v1/datasets", files={"file": ("sales.csv", b"region,sales\nN,1\n")}).json()
    second = client.post("/v1/datasets", files={"file": ("sales.csv", b"region,sales,units\nN,1,2\n")}).json()
    client.post("/v1/datasets", files={"file": ("other.csv", b"a\n1\n")})
    listing = client.get("/datasets").text
    assert len(re.findall(r'href="/datasets/\w+"', listing)) == 2 and "2 versions" in listing  # one row per name
    page = client.get(f"/datasets/{first['id']}").text
    assert "Versions of sales" in page and f'href="/datasets/{second["id"]}">v2</a>' in page
    assert '<strong aria-current="page">v1</strong>' in page and "+ units" in page
    assert page.count("<h2>Columns</h2>") == 1  # the shown version's profile


@pytest.mark.parametrize("path", ["/", "/?status=failed", "/?skip=40"])
def test_an_empty_jobs_list_never_counts_zero_to_zero(client, path):
    page = client.get(path).text
    assert "0–0" not in page and "of 0" not in page and "1–0" not in page and "41–" not in page


def test_an_uploaded_image_is_listed_and_shown_as_an_image(client):
    import io

    from PIL import Image as PILImage

    buf = io.BytesIO()
    PILImage.new("RGB", (300, 100), "#1B2A4A").save(buf, format="PNG")
    image = client.post("/v1/datasets", files={"file": ("logo.png", buf.getvalue(), "image/png")}).json()
    assert image["kind"] == "image"
    listed = client.get("/datasets").text
    assert re.search(
        r'<a href="/datasets/\w+">logo.png</a>.*?<td class="num" data-unit="rows">image</td>', listed, re.S
    )
    page = client.get(f"/datasets/{image['id']}").text
    assert "logo.png · PNG image · 300 × 100 · image blocks and brand logos name it “logo.png”" in page
    assert "<h2>Columns</h2>" not in page
    new_job = client.get("/jobs/new").text
    assert "logo.png <small>v1 · image · logo.png</small>" in new_job
    assert 'id="brand"' not in new_job  # no kits yet
    assert client.put(
        "/v1/brands/acme", json={"primary": "#1B2A4A", "accent": "#F28C28", "logo": "logo.png"}
    ).is_success
    assert re.search(r'<select id="brand" name="brand".*?<option\s*>acme</option>', client.get("/jobs/new").text, re.S)


def test_the_new_job_form_offers_the_newest_version_of_each_name(client):
    ids = [
        client.post("/v1/datasets", files={"file": ("sales.csv", f"region,revenue\nNorth,{n}\n")}).json()["id"]
        for n in (1, 2, 3)
    ]
    form = client.get("/jobs/new").text
    assert re.findall(r'name="dataset_ids" value="(\w+)"', form) == [ids[2]]
    assert "v3 · 1 row" in form
