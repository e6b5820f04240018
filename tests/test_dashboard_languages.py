"""A French user in Chromium: French prompt and file on the New job form, a French report back."""

from __future__ import annotations

import re
import subprocess

from docagent.engine.i18n import supported
from tests import test_dashboard as dashboard
from tests.conftest import needs_poppler
from tests.test_languages import FRENCH_CSV, FRENCH_NUMBER, FRENCH_PROMPT

# The same live server, browser and signed-in page as the dashboard tests
pytestmark = dashboard.pytestmark
server, browser, page = dashboard.server, dashboard.browser, dashboard.page


def test_the_language_menu_lists_what_docagent_writes(page):
    page.goto("/jobs/new")
    options = page.locator("#language option")
    assert options.all_inner_texts() == ["From the prompt", *supported().values()]
    assert page.locator("#language option[value=fr]").inner_text() == "Français"


@needs_poppler
def test_a_french_prompt_and_file_make_a_french_report(page, tmp_path):
    data = tmp_path / "ventes.csv"
    data.write_text(FRENCH_CSV, encoding="utf-8")
    page.goto("/jobs/new")
    page.set_input_files("#files", str(data))
    page.locator(".profile-card").wait_for(timeout=30_000)
    page.fill("#prompt", FRENCH_PROMPT)
    page.click("button[type=submit]")
    page.wait_for_url("**/jobs/*")
    page.locator("#live [data-status]").filter(has_text="succeeded").wait_for(timeout=90_000)
    with page.expect_download() as info:
        page.click("a[data-format=pdf]")
    text = subprocess.run(
        ["pdftotext", "-layout", str(info.value.path()), "-"], capture_output=True, text=True, check=True
    ).stdout
    for words in ("Synthèse", "Répartition par Région", "Tableau 1", "Chiffre d'affaires"):  # short: no contents
        assert words in text, words
    assert FRENCH_NUMBER.search(text) and re.search(r"\bT[1-4] 2025\b", text)
    assert page.problems == []  # type: ignore[attr-defined]


def test_the_api_refuses_a_language_docagent_does_not_write(server):
    with server.client(server.key) as c:
        r = c.post("/v1/jobs", json={"prompt": "Rapporto trimestrale", "language": "it"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "unsupported_language" and "fr (Français)" in body["detail"], body
