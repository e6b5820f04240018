"""Templates through the service: uploaded (kind template), shown to the model, a burst's zip and each file."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import docx
import httpx2 as httpx
import pytest

from docagent.engine.llm.fake import FakeModel, FakeServer, reply
from tests.orgtemplates import INVOICES, LETTER_PLAN, letter_from_python_docx
from tests.service import Stack, embedded, wait_status

PLAN = copy.deepcopy(LETTER_PLAN)
PLAN["meta"]["burst"] = {"by": "customer", "dataset": "invoices", "filename": "letter-{customer}"}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeModel]:
    model = FakeModel(then=reply(json.dumps(PLAN)))
    server = FakeServer(model)
    model.url = server.url  # type: ignore[attr-defined]
    yield model
    server.close()


@pytest.fixture(scope="module")
def stack(fake, tmp_path_factory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("templates")
    with embedded(tmp, DOCAGENT_LLM_BASE_URL=fake.url, DOCAGENT_LLM_AGENTIC="off") as s:  # type: ignore[attr-defined]
        yield s


@pytest.fixture(scope="module")
def client(stack) -> Iterator[httpx.Client]:
    with stack.client() as c:
        yield c


def _upload(client: httpx.Client, name: str, content: bytes, **data: str) -> httpx.Response:
    return client.post("/v1/datasets", files={"file": (name, content, "application/octet-stream")}, data=data)


@pytest.fixture(scope="module")
def letter(tmp_path_factory) -> bytes:
    """One build of the letter: python-docx stamps the zip members with the clock, so two builds may differ."""
    return letter_from_python_docx(tmp_path_factory.mktemp("letter")).read_bytes()


@pytest.fixture(scope="module")
def uploaded(client, letter) -> dict[str, dict[str, Any]]:
    t = _upload(client, "letter.docx", letter, kind="template")
    d = _upload(client, "invoices.csv", INVOICES.encode())
    assert t.status_code == 201 and d.status_code == 201, (t.text, d.text)
    return {"template": t.json(), "data": d.json()}


def test_a_template_is_uploaded_versioned_and_profiled_like_an_image(client, uploaded, letter, tmp_path):
    tpl = uploaded["template"]
    assert (tpl["kind"], tpl["name"], tpl["format"], tpl["version"]) == ("template", "letter.docx", "docx", 1)
    profile = client.get(f"/v1/datasets/{tpl['id']}").json()["profile"]
    assert "balance" in profile["placeholders"] and profile["headers"] == ["Acme Ltd - Accounts receivable"]
    same = _upload(client, "letter.docx", letter, kind="template")
    assert same.status_code == 200 and (same.json()["id"], same.json()["version"]) == (tpl["id"], 1)  # unchanged
    edited = docx.Document(str(letter_from_python_docx(tmp_path)))
    edited.add_paragraph("Yours sincerely,")
    buf = io.BytesIO()
    edited.save(buf)
    again = _upload(client, "letter.docx", buf.getvalue(), kind="template")
    assert again.status_code == 201 and again.json()["version"] == 2
    listed = client.get("/v1/datasets", params={"kind": "template"}).json()["data"]
    assert {d["kind"] for d in listed} == {"template"} and len(listed) == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("letter.docm", b"PK\x03\x04", "templates with macros are refused"),
        ("letter.docx", b"not a zip", "not a .docx file (not a zip package)"),
    ],
)
def test_a_false_or_macro_template_is_refused_and_leaves_nothing(client, name, content, message):
    before = client.get("/v1/datasets").json()["count"]
    r = _upload(client, name, content, kind="template")
    assert r.status_code == 422 and message in r.json()["detail"], r.text
    assert client.get("/v1/datasets").json()["count"] == before


def test_a_burst_job_is_one_zip_listing_each_letter_each_downloadable(client, fake, uploaded):
    ids = [uploaded["data"]["id"], uploaded["template"]["id"]]
    r = client.post("/v1/jobs", json={"prompt": "A letter per customer with their balance", "dataset_ids": ids,
                                      "planner": "llm", "formats": ["docx"]})  # fmt: skip
    assert r.status_code == 202, r.text
    job = wait_status(client, r.json()["id"], {"succeeded", "failed"})
    assert job["status"] == "succeeded", job["error"]
    asked = fake.requests[-1]["messages"][-1]["content"]
    assert "Template 'letter.docx' (docx)" in asked and "{{table:invoices.amount}}" in asked
    (art,) = job["artifacts"]
    assert art["format"] == "zip"
    names = [f["name"] for f in art["files"]]
    assert names == ["letter-Acme Corp.docx", "letter-Birch & Co.docx", "letter-Cedar Ltd.docx"]
    with zipfile.ZipFile(io.BytesIO(client.get(art["url"]).content)) as z:
        assert sorted(z.namelist()) == names
    one = client.get(art["files"][1]["url"])
    assert one.status_code == 200 and "Birch" in one.headers["content-disposition"]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(one.content)).paragraphs)
    assert "Dear Birch & Co," in text and "Your balance is $75.25." in text
    missing = client.get(f"/v1/jobs/{job['id']}/artifacts/zip/other.docx")
    assert missing.status_code == 404


def test_a_given_plan_finds_its_template_by_name_and_one_never_uploaded_is_refused(client, uploaded):
    r = client.post("/v1/jobs", json={"plan": PLAN, "dataset_ids": [uploaded["data"]["id"]], "formats": ["docx"]})
    assert r.status_code == 202, r.text  # the newest letter.docx joins the job, as images do
    job = wait_status(client, r.json()["id"], {"succeeded", "failed"})
    assert job["status"] == "succeeded", job["error"]
    assert len(job["dataset_ids"]) == 2
    other = copy.deepcopy(PLAN)
    other["meta"]["template"] = "other.docx"
    r = client.post("/v1/jobs", json={"plan": other, "dataset_ids": [uploaded["data"]["id"]]})
    assert r.status_code == 422, r.text
    assert any("no template 'other.docx' was given" in p for p in r.json()["problems"])


def test_a_schedules_webhook_lists_each_document_of_a_burst():
    import datetime as dt
    from types import SimpleNamespace

    from docagent.pipeline.delivery import payload
    from docagent.service.store import ArtifactRow

    zipped = ArtifactRow(format="zip", filename="letters.zip", bytes=10, storage_key="k",
                         provenance={"files": ["letter-A & B.docx", "letter-C.docx"]})  # fmt: skip
    run = SimpleNamespace(id="r", fire_time=dt.datetime(2026, 12, 1, tzinfo=dt.UTC), late=False, manual=False)
    job = SimpleNamespace(id="j1", status="succeeded", error_code=None, error_message=None)
    body = payload(run, SimpleNamespace(id="s", name="letters"), job, [zipped], "https://docs.example/")  # type: ignore[arg-type]
    (art,) = body["job"]["artifacts"]
    assert art["files"] == [
        {"name": "letter-A & B.docx", "url": "https://docs.example/v1/jobs/j1/artifacts/zip/letter-A%20%26%20B.docx"},
        {"name": "letter-C.docx", "url": "https://docs.example/v1/jobs/j1/artifacts/zip/letter-C.docx"},
    ]


def test_a_schedule_with_a_frozen_burst_plan_writes_the_letters_each_run(client, uploaded):
    body = {"name": "letters", "cron": "0 0 1 1 *", "timezone": "UTC",
            "job": {"prompt": "Balance letters", "formats": ["docx"], "source": {"dataset": "invoices"}, "plan": PLAN}}  # fmt: skip
    created = client.post("/v1/schedules", json=body)
    assert created.status_code == 201, created.text
    run = client.post(f"/v1/schedules/{created.json()['id']}/run").json()
    job = wait_status(client, run["job_id"], {"succeeded", "failed"})
    assert job["status"] == "succeeded", job["error"]
    (art,) = job["artifacts"]
    assert [f["name"] for f in art["files"]] == [
        "letter-Acme Corp.docx", "letter-Birch & Co.docx", "letter-Cedar Ltd.docx"
    ]  # fmt: skip


def test_a_planned_schedule_shows_its_template_to_the_model_each_run(client, fake, uploaded):
    job = {"prompt": "A letter per customer with their balance", "formats": ["docx"], "planner": "llm",
           "source": {"dataset": "invoices"}, "template": "letter.docx"}  # fmt: skip
    missing = client.post(
        "/v1/schedules", json={"name": "x", "cron": "0 0 1 1 *", "job": {**job, "template": "nope.docx"}}
    )
    assert missing.status_code == 422 and "no template named 'nope.docx'" in missing.text, missing.text
    created = client.post("/v1/schedules", json={"name": "planned letters", "cron": "0 0 1 1 *", "job": job})
    assert created.status_code == 201, created.text
    assert created.json()["job"]["template"] == "letter.docx"
    run = client.post(f"/v1/schedules/{created.json()['id']}/run").json()
    done = wait_status(client, run["job_id"], {"succeeded", "failed"})
    assert done["status"] == "succeeded", done["error"]
    assert "Template 'letter.docx' (docx)" in fake.requests[-1]["messages"][-1]["content"]
    newest = max(client.get("/v1/datasets", params={"kind": "template"}).json()["data"], key=lambda d: d["version"])
    assert sorted(done["dataset_ids"]) == sorted([uploaded["data"]["id"], newest["id"]])  # fetched fresh
    (art,) = done["artifacts"]
    assert art["format"] == "zip" and len(art["files"]) == 3
