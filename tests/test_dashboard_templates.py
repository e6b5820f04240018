"""The dashboard with templates: upload one, see what it holds, pick it, download a burst's zip and each letter."""

from __future__ import annotations

import copy
import io
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.orgtemplates import INVOICES, LETTER_PLAN, letter_from_python_docx
from tests.service import embedded, wait_status
from tests.test_dashboard import CHROMIUM, browser, page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or not shutil.which("chromium"), reason="no chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with embedded(tmp_path_factory.mktemp("dash-templates")) as stack:
        yield stack


def test_a_template_is_uploaded_picked_and_a_bursts_letters_downloaded(page, server, tmp_path):  # noqa: F811
    template = letter_from_python_docx(tmp_path)
    named = tmp_path / "letter.docx"
    named.write_bytes(template.read_bytes())
    page.goto("/datasets")
    page.set_input_files("#template-file", str(named))
    page.click("form.template-upload button")
    page.wait_for_url("**/datasets/*")
    held = page.locator(".template-profile").inner_text()
    assert "{{balance}}" in held and "Acme Ltd - Accounts receivable" in held
    page.goto("/jobs/new")
    assert "letter.docx v1 · template" in page.locator("fieldset.datasets").inner_text()

    with server.client() as client:  # a given plan that names it (the model would write the same)
        data = client.post("/v1/datasets", files={"file": ("invoices.csv", INVOICES.encode(), "text/csv")}).json()
        ids = [d["id"] for d in client.get("/v1/datasets").json()["data"]]
        plan = copy.deepcopy(LETTER_PLAN)
        plan["meta"]["burst"] = {"by": "customer", "dataset": "invoices", "filename": "letter-{customer}"}
        job = client.post("/v1/jobs", json={"plan": plan, "dataset_ids": ids, "formats": ["docx"]}).json()
        assert wait_status(client, job["id"], {"succeeded", "failed"})["status"] == "succeeded"
    assert data["kind"] == "data"
    page.goto(f"/jobs/{job['id']}")
    with page.expect_download() as zipped:
        page.click("a[data-format=zip]")
    with zipfile.ZipFile(io.BytesIO(Path(zipped.value.path()).read_bytes())) as z:
        assert len(z.namelist()) == 3
    page.click("details.burst-files summary")
    links = page.locator("details.burst-files a")
    assert links.count() == 3
    with page.expect_download() as one:
        links.nth(1).click()
    assert one.value.suggested_filename == "letter-Birch & Co.docx"
    assert Path(one.value.path()).read_bytes()[:4] == b"PK\x03\x04"
    assert page.problems == []  # type: ignore[attr-defined]
