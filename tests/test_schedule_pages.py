"""Schedule pages and the cron preview, in-process (no browser): the form's validation and what it keeps."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from typing import Any

import pytest

from docagent.service.records import create_dataset
from docagent.settings import get_settings
from tests.conftest import EXAMPLE
from tests.orgtemplates import letter_from_python_docx
from tests.test_pages import client, sent, token  # noqa: F401  (the in-process app and its queue)


def test_preview_describes_the_expression_and_lists_five_times_in_the_zone(client):  # noqa: F811
    r = client.get("/v1/schedules/preview", params={"cron": "0 8 * * mon", "timezone": "Asia/Shanghai"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["description"] == "At 08:00, only on Monday"
    times = [dt.datetime.fromisoformat(t) for t in body["next_fire_times"]]
    assert len(times) == 5 and all(t.utcoffset() == dt.timedelta(hours=8) for t in times)
    assert all((t.weekday(), t.hour, t.minute) == (0, 8, 0) for t in times)
    assert all(b - a == dt.timedelta(days=7) for a, b in zip(times, times[1:], strict=False))


def test_preview_follows_daylight_saving_in_the_zone(client):  # noqa: F811
    body = client.get("/v1/schedules/preview", params={"cron": "0 9 1 * *", "timezone": "Europe/Berlin"}).json()
    offsets = {dt.datetime.fromisoformat(t).utcoffset() for t in body["next_fire_times"]}
    hours = {dt.datetime.fromisoformat(t).hour for t in body["next_fire_times"]}
    assert hours == {9} and offsets <= {dt.timedelta(hours=1), dt.timedelta(hours=2)}


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"cron": "0 25 * * *", "timezone": "UTC"}, "cron", "invalid cron expression '0 25 * * *'"),
        ({"cron": "every monday", "timezone": "UTC"}, "cron", "use five fields"),
        ({"cron": "0 0 30 2 *", "timezone": "UTC"}, "cron", "never fires"),
        ({"cron": "0 8 * * mon", "timezone": "Europe/Atlantis"}, "timezone", "unknown time zone 'Europe/Atlantis'"),
    ],
)
def test_a_bad_preview_is_a_422_naming_the_field(client, params, field, message):  # noqa: F811
    r = client.get("/v1/schedules/preview", params=params)
    body = r.json()
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert body["code"] == "invalid_schedule" and body["field"] == field
    assert body["detail"].startswith(f"{field}: ") and message in body["detail"]


def form(**over: Any) -> dict[str, Any]:
    return {
        "name": "Weekly sales",
        "cron": "0 8 * * mon",
        "timezone": "Asia/Shanghai",
        "source": "dataset",
        "dataset": "sales",
        "prompt": "Weekly sales by region",
        "formats": ["pdf", "xlsx"],
        "planner": "rules",
        "webhook_url": "",
        "enabled": "on",
    } | over


def field_error(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    assert found, f"no error slot for {field}"
    return htmllib.unescape(found.group(1))


def marked_invalid(html: str, element_id: str) -> bool:
    tag = re.search(rf'<(?:input|select|textarea)[^>]*id="{element_id}"[^>]*>', html)
    assert tag, element_id
    return 'aria-invalid="true"' in tag.group(0) and f'aria-describedby="{element_id}-error"' in tag.group(0)


def test_the_form_names_each_problem_under_its_field_and_keeps_what_was_typed(client):  # noqa: F811
    sent_form = form(name=" ", cron="0 8 * * someday", webhook_url="not a url", prompt="Keep me", formats=[])
    r = client.post("/schedules/new", data={**sent_form, **token(client)})
    assert r.status_code == 422
    html = r.text
    assert "Give the schedule a name" in field_error(html, "name") and marked_invalid(html, "name")
    assert "invalid cron expression" in field_error(html, "cron") and marked_invalid(html, "cron")
    assert "Choose at least one format" in field_error(html, "formats")
    assert "Enter a full address" in field_error(html, "webhook_url")  # every problem at once
    assert 'value="0 8 * * someday"' in html and ">Keep me</textarea>" in html and 'value="Asia/Shanghai"' in html
    assert client.get("/v1/schedules").json()["count"] == 0


def test_a_webhook_to_a_private_address_is_refused_on_its_field(client):  # noqa: F811
    metadata = form(name="", webhook_url="http://169.254.169.254/latest")
    r = client.post("/schedules/new", data={**metadata, **token(client)})
    assert r.status_code == 422
    assert "is not a public address" in field_error(r.text, "webhook_url") and marked_invalid(r.text, "webhook_url")
    assert 'value="http://169.254.169.254/latest"' in r.text
    r = client.post("/schedules/new", data={**form(webhook_url="example dot com"), **token(client)})
    assert "Enter a full address" in field_error(r.text, "webhook_url")
    assert client.get("/v1/schedules").json()["count"] == 0


def test_a_bad_zone_is_named_on_the_zone_field(client):  # noqa: F811
    r = client.post("/schedules/new", data={**form(timezone="Mars/Olympus"), **token(client)})
    assert "unknown time zone 'Mars/Olympus'" in field_error(r.text, "timezone") and marked_invalid(r.text, "timezone")
    assert field_error(r.text, "cron") == ""


def test_an_ungranted_connection_is_not_offered_and_refused(client, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DOCAGENT_CONNECTIONS", '{"warehouse": "sqlite:///nowhere.db"}')
    get_settings.cache_clear()
    html = client.get("/schedules/new").text
    assert "No database connection is granted to your key" in html and 'id="connection"' not in html
    sql = form(source="sql", connection="warehouse", sql="SELECT 1")
    r = client.post("/schedules/new", data={**sql, **token(client)})
    assert r.status_code == 422 and "not granted to this key" in field_error(r.text, "source")


def test_create_then_edit_keeps_the_form_and_changes_the_schedule(client):  # noqa: F811
    settings = get_settings()
    create_dataset(EXAMPLE, "sales.csv", "sales", settings.owner, settings)
    html = client.get("/schedules/new").text
    assert "<option selected>sales</option>" in html and "At 08:00, only on Monday" in html
    assert html.count('<option value="Asia/Shanghai">') == 1  # the zone list
    r = client.post("/schedules/new", data={**form(), **token(client)})
    assert r.status_code == 303, r.text
    sid = r.headers["location"].split("/")[2].split("?")[0]
    assert r.headers["location"] == f"/schedules/{sid}?done=created"
    page = client.get(r.headers["location"]).text
    assert "Schedule created." in page and "At 08:00, only on Monday" in page and "No runs yet." in page
    edit = client.get(f"/schedules/{sid}/edit").text
    assert 'value="Weekly sales"' in edit and 'value="0 8 * * mon"' in edit and "checked> .xlsx" in edit
    r = client.post(f"/schedules/{sid}/edit", data={**form(cron="30 6 1 * *", formats=["docx"]), **token(client)})
    assert r.status_code == 303 and r.headers["location"] == f"/schedules/{sid}?done=saved"
    s = client.get(f"/v1/schedules/{sid}").json()
    assert s["cron"] == "30 6 1 * *" and s["job"]["formats"] == ["docx"] and s["webhook_url"] is None
    assert "At 06:30, on day 1 of the month" in client.get(f"/schedules/{sid}").text


def test_a_webhook_added_later_gets_a_signing_secret(client, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DOCAGENT_WEBHOOK_ALLOW", '["127.0.0.0/8"]')
    get_settings.cache_clear()
    r = client.post("/schedules/new", data={**form(), **token(client)})
    sid = r.headers["location"].split("/")[2].split("?")[0]
    assert client.get(f"/v1/schedules/{sid}").json()["webhook_secret"] is None
    client.post(f"/schedules/{sid}/edit", data={**form(webhook_url="http://127.0.0.1:9/hook"), **token(client)})
    assert len(client.get(f"/v1/schedules/{sid}").json()["webhook_secret"] or "") > 30


def test_run_now_from_the_page_shows_the_run_in_the_history(client, sent):  # noqa: F811
    settings = get_settings()
    create_dataset(EXAMPLE, "sales.csv", "sales", settings.owner, settings)
    sid = client.post("/schedules/new", data={**form(), **token(client)}).headers["location"].split("/")[2][:32]
    sid = sid.split("?")[0]
    r = client.post(f"/schedules/{sid}/run", data={"back": "schedule", **token(client)})
    assert r.status_code == 303 and r.headers["location"] == f"/schedules/{sid}?done=run"
    (job_id,) = sent
    page = client.get(r.headers["location"]).text
    assert f'href="/jobs/{job_id}"' in page and "badge-queued" in page and 'data-final="no"' in page
    assert "run now" in client.get(f"/partials/schedules/{sid}/runs").text


def test_an_empty_list_invites_a_first_schedule(client):  # noqa: F811
    html = client.get("/schedules").text
    assert "No schedules yet" in html and 'href="/schedules/new"' in html and "0–0" not in html


def test_delete_asks_first_then_says_it_is_done(client):  # noqa: F811
    sid = client.post("/schedules/new", data={**form(), **token(client)}).headers["location"].split("/")[2]
    sid = sid.split("?")[0]
    ask = client.get(f"/schedules/{sid}/delete")
    assert ask.status_code == 200 and "Delete the schedule “Weekly sales”?" in ask.text
    assert client.get("/v1/schedules").json()["count"] == 1
    r = client.post(f"/schedules/{sid}/delete", data=token(client))
    assert r.status_code == 303 and r.headers["location"] == "/schedules?deleted=Weekly+sales"
    assert "Deleted the schedule “Weekly sales”." in client.get(r.headers["location"]).text
    assert client.get("/v1/schedules").json()["count"] == 0
    assert client.get(f"/schedules/{sid}", headers={"Accept": "text/html"}).status_code == 404


def test_the_history_shows_late_and_skipped_runs_and_failed_deliveries(client, sent, monkeypatch):  # noqa: F811
    from docagent.service.schedules import fire_due
    from docagent.service.store import RunRow, ScheduleRow, session

    monkeypatch.setenv("DOCAGENT_WEBHOOK_ALLOW", '["127.0.0.0/8"]')
    get_settings.cache_clear()
    settings = get_settings()
    created = client.post("/schedules/new", data={**form(webhook_url="http://127.0.0.1:9/hook"), **token(client)})
    sid = created.headers["location"].split("/")[2].split("?")[0]
    at = dt.datetime.now(dt.UTC)
    with session(settings) as s:
        s.get(ScheduleRow, sid).next_fire_at = at - dt.timedelta(days=15)  # type: ignore[union-attr]
    (late,) = fire_due(at, settings)  # two Mondays were missed: one late run
    client.post(f"/schedules/{sid}/run", data={"back": "schedule", **token(client)})  # the late run's job is queued
    with session(settings) as s:
        run = s.get(RunRow, late.id)
        assert run is not None
        run.delivery_status, run.delivery_attempts, run.delivery_error = "failed", 5, "HTTP 500"
    rows = client.get(f"/partials/schedules/{sid}/runs").text
    assert rows.count("<tr data-run=") == 2
    assert "late" in rows and "skipped: the previous run was still going" in rows
    assert "delivery-failed" in rows and "5 attempts" in rows and "HTTP 500" in rows
    assert "no job" in rows  # the skipped run made none


def test_a_sql_source_on_a_granted_connection(client, monkeypatch, tmp_path):  # noqa: F811
    owner = get_settings().owner
    monkeypatch.setenv("DOCAGENT_CONNECTIONS", f'{{"warehouse": "sqlite:///{tmp_path / "w.db"}"}}')
    monkeypatch.setenv("DOCAGENT_CONNECTION_GRANTS", f'{{"warehouse": ["{owner}"]}}')
    get_settings.cache_clear()
    assert "<option selected>warehouse</option>" in client.get("/schedules/new").text
    empty = client.post("/schedules/new", data={**form(source="sql", connection="warehouse"), **token(client)})
    assert empty.status_code == 422 and "Write the query" in field_error(empty.text, "source")
    sql = "SELECT region, SUM(amount) AS amount FROM orders GROUP BY region"
    r = client.post("/schedules/new", data={**form(source="sql", connection="warehouse", sql=sql), **token(client)})
    assert r.status_code == 303, r.text
    sid = r.headers["location"].split("/")[2].split("?")[0]
    assert client.get(f"/v1/schedules/{sid}").json()["job"]["source"] == {"sql": sql, "connection": "warehouse"}
    page = client.get(f"/schedules/{sid}").text
    assert "a query on <strong>warehouse</strong>" in page and "SUM(amount)" in page
    edit = client.get(f"/schedules/{sid}/edit").text
    assert 'value="sql" checked' in edit and "GROUP BY region</textarea>" in edit


def test_the_form_chooses_the_language_and_brand_kit_of_each_run(client):  # noqa: F811
    settings = get_settings()
    create_dataset(EXAMPLE, "sales.csv", "sales", settings.owner, settings)
    assert 'id="brand"' not in client.get("/schedules/new").text  # no kits yet
    assert client.put("/v1/brands/acme", json={"primary": "#1B2A4A", "accent": "#F28C28"}).is_success
    html = client.get("/schedules/new").text
    assert '<option value="fr" >Français</option>' in html and "<option >acme</option>" in html
    r = client.post("/schedules/new", data={**form(language="fr", brand="acme"), **token(client)})
    assert r.status_code == 303, r.text
    sid = r.headers["location"].split("/")[2].split("?")[0]
    job = client.get(f"/v1/schedules/{sid}").json()["job"]
    assert (job["language"], job["brand"]) == ("fr", "acme")
    edit = client.get(f"/schedules/{sid}/edit").text
    assert '<option value="fr" selected>Français</option>' in edit and "<option selected>acme</option>" in edit
    r = client.post(f"/schedules/{sid}/edit", data={**form(language="", brand=""), **token(client)})
    assert r.status_code == 303
    job = client.get(f"/v1/schedules/{sid}").json()["job"]
    assert (job.get("language"), job.get("brand")) == (None, None)  # cleared: from the prompt, the theme


def test_the_form_offers_the_templates_apart_from_the_data_and_keeps_the_choice(client, tmp_path):  # noqa: F811
    settings = get_settings()
    create_dataset(EXAMPLE, "sales.csv", "sales", settings.owner, settings)
    create_dataset(
        letter_from_python_docx(tmp_path), "letter.docx", "letter.docx", settings.owner, settings, "template"
    )
    html = client.get("/schedules/new").text
    offered = re.search(r'<select id="template".*?</select>', html, re.S)
    assert offered and "<option >letter.docx</option>" in offered.group(0) and "sales" not in offered.group(0)
    sources = re.search(r'<select id="dataset".*?</select>', html, re.S)
    assert sources and "letter.docx" not in sources.group(0)  # a template is no data source
    r = client.post("/schedules/new", data={**form(template="letter.docx"), **token(client)})
    assert r.status_code == 303, r.text
    sid = r.headers["location"].split("/")[2].split("?")[0]
    assert client.get(f"/v1/schedules/{sid}").json()["job"]["template"] == "letter.docx"
    assert "the newest upload of <strong>letter.docx</strong>" in client.get(f"/schedules/{sid}").text
    assert "<option selected>letter.docx</option>" in client.get(f"/schedules/{sid}/edit").text
    r = client.post(f"/schedules/{sid}/edit", data={**form(template="gone.docx"), **token(client)})
    assert r.status_code == 422 and "no template named 'gone.docx'" in field_error(r.text, "template")
    r = client.post(f"/schedules/{sid}/edit", data={**form(), **token(client)})  # back to docagent's own look
    assert r.status_code == 303 and client.get(f"/v1/schedules/{sid}").json()["job"].get("template") is None
