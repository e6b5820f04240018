"""A first-time user's journeys through the API and the pages, in-process: no false message, no doomed job.

Each test is one journey that once ended in a wrong message or in a job accepted only to fail.
"""

from __future__ import annotations

import html
import io
import json
import re

import pytest
from PIL import Image
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from docagent.cli.main import app as cli
from docagent.engine.data.isolated import inspect_file
from docagent.engine.data.profile import profile
from docagent.engine.planners.rules import plan_report
from docagent.errors import UnreadableData
from docagent.service import lifecycle
from docagent.service.store import DatasetRow, JobRow, session
from docagent.settings import Settings, get_settings
from tests.conftest import EXAMPLE
from tests.test_pages import client, sent, token  # noqa: F401  (fixtures)

KIT = {"primary": "#1B2A4A", "accent": "#F28C28", "logo": "logo.png"}


def png(width: int = 40, height: int = 20) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "#1B2A4A").save(out, "PNG")
    return out.getvalue()


def counts() -> tuple[int, int]:
    """(dataset versions, jobs) stored."""
    with session(get_settings()) as s:
        return s.scalar(select(func.count(DatasetRow.id))) or 0, s.scalar(select(func.count(JobRow.id))) or 0


def test_a_png_draft_is_an_image_with_its_size_not_a_resource_limit(client):  # noqa: F811
    r = client.post("/v1/drafts", files={"file": ("logo.png", png(40, 20), "image/png")})
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["kind"] == "image" and draft["name"] == "logo.png"
    assert draft["profile"] == {"format": "png", "width": 40, "height": 20}
    saved = client.post(f"/v1/drafts/{draft['id']}/dataset")
    assert saved.status_code == 201 and saved.json()["kind"] == "image" and saved.json()["name"] == "logo.png"


def test_isolated_reading_names_the_real_cause_not_a_limit(tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(png())
    with pytest.raises(UnreadableData) as failed:
        inspect_file(logo, Settings(var_dir=tmp_path / "var"))
    assert "CPU" not in str(failed.value) and "MiB" not in str(failed.value)
    assert str(failed.value) == "logo.png: holds no table of data to profile"


def test_a_real_memory_limit_is_still_reported_as_one(tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("a,b\n" + "".join(f"{i},{'x' * 200}\n" for i in range(200_000)))
    with pytest.raises(UnreadableData) as failed:
        inspect_file(big, Settings(var_dir=tmp_path / "var", ingest_memory_bytes=64 * 2**20))
    assert "64 MiB of memory" in str(failed.value)


def test_a_reader_that_dies_is_reported_by_its_last_words():
    """Under RLIMIT_AS some C code exits rather than raise (seen once in the suite: exit status 127, no answer)."""
    from docagent.engine.data.isolated import _died

    settings = Settings(ingest_memory_bytes=64 * 2**20)
    oom = _died("big.csv", 127, settings, "python3: symbol lookup error: libduckdb.so: cannot allocate memory\n")
    assert "64 MiB of memory" in str(oom)
    other = _died("big.csv", 127, settings, "warning\npython3: symbol lookup error: libx.so: undefined symbol: y\n")
    assert str(other) == (
        "big.csv: the reader stopped unexpectedly (exit status 127): "
        "python3: symbol lookup error: libx.so: undefined symbol: y"
    )
    assert str(_died("big.csv", -11, settings, "")).endswith("(signal SIGSEGV) before it could say why")


def test_profile_of_an_image_says_what_it_is(tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(40, 20))
    done = CliRunner().invoke(cli, ["profile", str(logo)])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == [{"image": "logo.png", "format": "png", "width": 40, "height": 20}]


def test_a_kit_whose_logo_is_gone_is_refused_before_anything_is_stored(client, sent):  # noqa: F811
    logo = client.post("/v1/datasets", files={"file": ("logo.png", png(), "image/png")}).json()
    assert client.put("/v1/brands/acme", json=KIT).status_code == 201
    with session(get_settings()) as s:  # gone behind the API's back (an older server let it go)
        s.execute(delete(DatasetRow).where(DatasetRow.id == logo["id"]))
    before = counts()
    with EXAMPLE.open("rb") as f:
        r = client.post("/v1/jobs/upload", files={"files": ("sales.csv", f)}, data={"prompt": "Sales", "brand": "acme"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_brand"
    assert "brand kit 'acme': logo: no image file 'logo.png'" in r.json()["detail"]
    assert counts() == before and sent == []


def test_the_model_planner_without_a_model_is_refused_and_nothing_is_stored(client, sent):  # noqa: F811
    with EXAMPLE.open("rb") as f:
        r = client.post(
            "/v1/jobs/upload", files={"files": ("sales.csv", f)}, data={"prompt": "Sales", "planner": "llm"}
        )
    assert r.status_code == 422 and r.json()["code"] == "model_not_configured"
    assert "no model is configured on this server" in r.json()["detail"]
    assert "DOCAGENT_" not in r.json()["detail"]
    assert counts() == (0, 0) and sent == []
    form = {"prompt": "Sales", "formats": ["pdf"], "planner": "llm", **token(client)}
    page = client.post("/jobs/new", data=form)
    assert page.status_code == 422 and counts() == (0, 0)
    error = re.search(r'id="planner-error" role="alert">([^<]*)<', page.text)
    assert error and "no model is configured on this server" in error.group(1)


def test_an_image_a_kit_or_schedule_uses_cannot_be_deleted(client):  # noqa: F811
    logo = client.post("/v1/datasets", files={"file": ("logo.png", png(), "image/png")}).json()
    with EXAMPLE.open("rb") as f:
        client.post("/v1/datasets", files={"file": ("sales.csv", f)}, data={"name": "sales"})
    client.put("/v1/brands/acme", json=KIT)
    schedule = {
        "name": "Weekly sales",
        "cron": "0 8 * * mon",
        "job": {"prompt": "Weekly sales", "brand": "acme", "source": {"dataset": "sales"}},
    }
    assert client.post("/v1/schedules", json=schedule).status_code == 201
    r = client.delete(f"/v1/datasets/{logo['id']}")
    assert r.status_code == 409 and r.json()["code"] == "in_use"
    assert "brand kit 'acme'" in r.json()["detail"] and "schedule 'Weekly sales'" in r.json()["detail"]
    page = client.get(f"/datasets/{logo['id']}/delete")
    assert "cannot be deleted now" in page.text and 'action="/datasets/' not in page.text
    # a newer version of the image stands in: the older one may go
    newer = client.post("/v1/datasets", files={"file": ("logo.png", png(41, 20), "image/png")}).json()
    assert newer["version"] == 2
    assert client.delete(f"/v1/datasets/{logo['id']}").status_code == 204


def test_the_same_file_again_is_unchanged_not_a_new_version(client):  # noqa: F811
    first = client.post("/v1/datasets", files={"file": ("sales.csv", EXAMPLE.read_bytes())}, data={"name": "sales"})
    again = client.post("/v1/datasets", files={"file": ("sales.csv", EXAMPLE.read_bytes())}, data={"name": "sales"})
    assert first.status_code == 201 and first.json()["unchanged"] is False
    assert again.status_code == 200 and again.json()["unchanged"] is True and again.json()["id"] == first.json()["id"]
    draft = client.post("/v1/drafts", files={"file": ("sales.csv", EXAMPLE.read_bytes())}).json()
    saved = client.post(f"/v1/drafts/{draft['id']}/dataset", data={"name": "sales"})
    assert saved.status_code == 200 and saved.json()["unchanged"] is True and saved.json()["version"] == 1
    changed = EXAMPLE.read_bytes() + EXAMPLE.read_bytes().splitlines(keepends=True)[-1]  # one more row
    newer = client.post("/v1/datasets", files={"file": ("sales.csv", changed)}, data={"name": "sales"})
    assert newer.status_code == 201, newer.text
    assert newer.json()["version"] == 2 and newer.json()["unchanged"] is False
    assert counts()[0] == 2


def test_a_too_long_prompt_is_answered_under_the_prompt_and_kept(client):  # noqa: F811
    with EXAMPLE.open("rb") as f:
        ds = client.post("/v1/datasets", files={"file": ("sales.csv", f)}).json()
    form = {"prompt": "x" * 40_000, "formats": ["pdf"], "dataset_ids": [ds["id"]], **token(client)}
    page = client.post("/jobs/new", data=form)
    assert page.status_code == 422
    error = re.search(r'id="prompt-error" role="alert">([^<]*)<', page.text)
    assert error and "40,000 characters" in error.group(1) and "20,000" in error.group(1)
    assert "x" * 40_000 + "</textarea>" in page.text
    assert '<div class="error" role="alert">' not in page.text  # nothing at the top instead


def test_an_unknown_address_is_a_friendly_page(client):  # noqa: F811
    r = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert "Page not found" in r.text and "There is no page at this address" in r.text
    assert "Not Found" not in r.text


def test_the_data_dictionary_writes_ranges_as_the_document_language_does(catalog):
    ds = catalog.ingest(EXAMPLE)[0]
    plan = plan_report([profile(catalog, ds)], "Rapport des ventes", "fr")
    (dictionary,) = [b for b in plan.blocks if getattr(b, "title", "") == "Colonnes de sales.csv"]
    ranges = {row[0]: row[-1] for row in dictionary.rows}  # the last column: examples or range
    assert ranges["revenue"] == "60,06 – 49\u202f830,99"  # min and max of the column, as French writes them


def test_a_schedule_with_the_model_planner_and_no_model_is_refused_at_its_field(client):  # noqa: F811
    schedule = {"name": "Weekly", "cron": "0 8 * * mon", "job": {"planner": "llm", "source": {"dataset": "sales"}}}
    r = client.post("/v1/schedules", json={**schedule, "job": {**schedule["job"], "prompt": "Weekly sales"}})
    assert r.status_code == 422 and r.json()["field"] == "job.planner"
    assert "no model is configured on this server" in r.json()["detail"]
    assert client.get("/v1/schedules").json()["count"] == 0


def test_retrying_a_job_whose_kit_cannot_work_is_refused_with_the_reason(client, sent):  # noqa: F811
    logo = client.post("/v1/datasets", files={"file": ("logo.png", png(), "image/png")}).json()
    with EXAMPLE.open("rb") as f:
        ds = client.post("/v1/datasets", files={"file": ("sales.csv", f)}).json()
    client.put("/v1/brands/acme", json=KIT)
    job = client.post("/v1/jobs", json={"prompt": "Sales", "dataset_ids": [ds["id"]], "brand": "acme"}).json()
    with session(get_settings()) as s:
        s.execute(delete(DatasetRow).where(DatasetRow.id == logo["id"]))
    with lifecycle.locked(job["id"], get_settings()) as row:
        lifecycle.fail(row, "invalid_brand", "the brand kit cannot be used")
    r = client.post(f"/v1/jobs/{job['id']}/retry")
    assert r.status_code == 422 and r.json()["code"] == "invalid_brand" and sent == [job["id"]]
    page = client.post(f"/jobs/{job['id']}/retry", data=token(client))
    error = re.search(r'id="retry-error" role="alert">([^<]*)<', page.text)
    assert page.status_code == 422 and error and "logo: no image file 'logo.png'" in html.unescape(error.group(1))
