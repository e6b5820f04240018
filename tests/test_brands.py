"""Brand kits per owner, images uploaded like data files, and the QA pass's warnings on the job,
through a real server on loopback (`docagent serve`)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import docx
import httpx2 as httpx
import openpyxl
import pypdf
import pytest
from PIL import Image as PILImage

from docagent.engine.llm.fake import FakeModel, FakeServer, reply
from tests.conftest import EXAMPLE
from tests.service import Stack, embedded, wait_status

NAVY, ORANGE, GREEN = "#1B2A4A", "#F28C28", "#2E7D32"
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">'
    '<rect width="200" height="100" fill="#F28C28"/><circle cx="50" cy="50" r="30" fill="#1B2A4A"/></svg>'
)
PLANS = EXAMPLE.parent / "plans"


def png(w: int = 120, h: int = 60, color: str = ORANGE) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (w, h), color).save(buf, format="PNG")
    return buf.getvalue()


IMAGE_PLAN = {
    "meta": {"title": "Our stand"},
    "blocks": [{"type": "image", "source": "photo.png", "alt": "The stand", "caption": "The stand"}],
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeModel]:
    model = FakeModel(then=reply(json.dumps(IMAGE_PLAN)))
    server = FakeServer(model)
    model.url = server.url  # type: ignore[attr-defined]
    yield model
    server.close()


@pytest.fixture(scope="module")
def stack(fake, tmp_path_factory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("brands")
    with embedded(tmp, DOCAGENT_LLM_BASE_URL=fake.url, DOCAGENT_LLM_AGENTIC="off") as s:  # type: ignore[attr-defined]
        yield s


@pytest.fixture(scope="module")
def client(stack) -> Iterator[httpx.Client]:
    with stack.client() as c:
        yield c


@pytest.fixture(scope="module")
def bob(stack) -> Iterator[httpx.Client]:
    with stack.client(stack.create_key("bob")) as c:
        yield c


def problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == code and body["status"] == status
    return body  # type: ignore[no-any-return]


def use_bomb(levels: int = 8) -> bytes:
    """1.3 KB of nested <use>: each level draws the one below ten times (10^7 rectangles)."""
    defs = ['<g id="l0"><rect width="1" height="1"/></g>']
    for i in range(1, levels):
        defs.append(f'<g id="l{i}">' + f'<use href="#l{i - 1}"/>' * 10 + "</g>")
    body = f'<defs>{"".join(defs)}</defs><use href="#l{levels - 1}"/>'
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">{body}</svg>'.encode()


USE_BOMB = use_bomb()


def upload(client: httpx.Client, name: str, content: bytes) -> httpx.Response:
    return client.post("/v1/datasets", files={"file": (name, content, "application/octet-stream")})


@pytest.fixture(scope="module")
def images(client) -> dict[str, dict[str, Any]]:
    out = {}
    for name, content in [
        ("logo.png", png(300, 100)),
        ("photo.png", png(160, 80, NAVY)),
        ("diagram.svg", SVG.encode()),
    ]:
        r = upload(client, name, content)
        assert r.status_code == 201, r.text
        out[name] = r.json()
    return out


def finished(client: httpx.Client, job_id: str) -> dict[str, Any]:
    job = wait_status(client, job_id, {"succeeded", "failed"})
    assert job["status"] == "succeeded", job["error"]
    return job


def artifact(client: httpx.Client, job: dict[str, Any], fmt: str) -> bytes:
    url = next(a["url"] for a in job["artifacts"] if a["format"] == fmt)
    return client.get(url).content


def zipped(data: bytes, prefix: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode(errors="replace") for n in z.namelist() if n.startswith(prefix))


# --- images ---


def test_images_are_uploaded_like_data_files_and_listed_as_images(client, images):
    logo, diagram = images["logo.png"], images["diagram.svg"]
    assert (logo["kind"], logo["name"], logo["format"], logo["version"]) == ("image", "logo.png", "png", 1)
    assert (diagram["kind"], diagram["format"]) == ("image", "svg")
    assert client.get(f"/v1/datasets/{logo['id']}").json()["profile"] == {"width": 300.0, "height": 100.0}
    listed = {d["name"] for d in client.get("/v1/datasets", params={"kind": "image"}).json()["data"]}
    assert {"logo.png", "photo.png", "diagram.svg"} <= listed
    assert not client.get("/v1/datasets", params={"kind": "data"}).json()["data"] or all(
        d["kind"] == "data" for d in client.get("/v1/datasets", params={"kind": "data"}).json()["data"]
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("evil.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><script>x()</script></svg>',
         "evil.svg: SVG with <script> is refused: images may not carry scripts or embedded documents"),
        ("link.svg", b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
         b'width="9" height="9"><image xlink:href="http://evil.test/a.png"/></svg>',
         "link.svg: SVG referring to 'http://evil.test/a.png' is refused: only in-file (#id) references"),
        ("huge.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="50000" height="50000"></svg>',
         "huge.svg: 50000x50000 exceeds the limit of 10,000 per side"),
        ("fake.png", b"GIF89a this is not a png at all", "fake.png: not a PNG image (its content is something else)"),
        ("dots.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="1..2" height="2"/>',
         "dots.svg: SVG width '1..2' is not a length; give a number, or a viewBox"),
        ("bomb.svg", USE_BOMB,
         "bomb.svg: SVG drawing more than 20,000 elements once every <use> is expanded is refused"),
    ],
)  # fmt: skip
def test_hostile_or_false_images_are_refused_with_a_clear_problem_and_leave_nothing(client, name, content, message):
    before = client.get("/v1/datasets").json()["count"]
    body = problem(upload(client, name, content), 422, "bad_input")
    assert body["detail"] == message
    assert client.get("/v1/datasets").json()["count"] == before


def test_the_model_is_told_which_uploaded_images_it_may_place(client, fake, images):
    photo = images["photo.png"]
    r = client.post(
        "/v1/jobs", json={"prompt": "A page about our stand", "dataset_ids": [photo["id"]], "planner": "llm"}
    )
    assert r.status_code == 202, r.text
    job = finished(client, r.json()["id"])
    asked = fake.requests[-1]["messages"][-1]["content"]
    assert asked.endswith("\nImage files given with the job: photo.png.")
    assert job["planner"]["name"] == "llm"
    document = docx.Document(io.BytesIO(artifact(client, job, "docx")))
    assert len(document.inline_shapes) == 1


# --- brand kits ---


def test_brand_kits_are_stored_per_owner_and_listed_with_the_themes(client, bob, images):
    kit = {"primary": NAVY, "accent": ORANGE, "logo": "logo.png"}
    r = client.put("/v1/brands/acme", json=kit)
    assert r.status_code == 201, r.text
    assert r.json() | {"created_at": None, "updated_at": None} == {
        "name": "acme", "primary": NAVY, "accent": ORANGE, "palette": [], "font": None, "logo": "logo.png",
        "notes": [], "created_at": None, "updated_at": None,
    }  # fmt: skip
    r = client.put("/v1/brands/acme", json=kit | {"accent": GREEN})
    assert r.status_code == 200 and r.json()["accent"] == GREEN  # replaced, not added
    listed = client.get("/v1/brands").json()
    assert {"corporate", "classic"} <= set(listed["themes"])
    assert [b["name"] for b in listed["data"]] == ["acme"] and listed["count"] == 1
    assert client.get("/v1/brands/acme").json()["accent"] == GREEN

    # another owner sees none of it, and may use the same name for a kit of his own
    assert bob.get("/v1/brands").json()["count"] == 0
    problem(bob.get("/v1/brands/acme"), 404, "brand_not_found")
    problem(bob.delete("/v1/brands/acme"), 404, "brand_not_found")
    assert bob.put("/v1/brands/acme", json={"primary": GREEN, "accent": GREEN}).status_code == 201
    assert client.get("/v1/brands/acme").json()["primary"] == NAVY

    assert client.put("/v1/brands/gone", json={"primary": NAVY, "accent": ORANGE}).status_code == 201
    assert client.delete("/v1/brands/gone").status_code == 204
    problem(client.get("/v1/brands/gone"), 404, "brand_not_found")


def test_a_kit_is_checked_as_a_plans_meta_brand_is(client, bob, images):
    bad = {"primary": "navy", "accent": ORANGE, "palette": [NAVY] * 11, "logo": "missing.png"}
    body = problem(client.put("/v1/brands/bad", json=bad), 422, "invalid_brand")
    assert body["problems"][:2] == [
        "primary: 'navy' is not a colour; write #RRGGBB, like #1B2A4A",
        "palette: at most 10 colours",
    ]
    assert body["problems"][2].startswith("logo: no image file 'missing.png' uploaded; images uploaded: 'diagram.svg'")
    # a logo must be an image of this owner: bob has uploaded none
    body = problem(
        bob.put("/v1/brands/b", json={"primary": NAVY, "accent": ORANGE, "logo": "logo.png"}), 422, "invalid_brand"
    )
    assert body["problems"] == ["logo: no image file 'logo.png' uploaded; images uploaded: none (or leave logo null)"]
    problem(client.put("/v1/brands/no%20spaces", json={"primary": NAVY, "accent": ORANGE}), 422, "invalid_brand")
    # a font is never refused: its fallback in the PDF is recorded
    r = client.put("/v1/brands/serif", json={"primary": NAVY, "accent": ORANGE, "font": "Georgia"})
    assert r.status_code == 201 and r.json()["notes"] == [
        "brand font 'Georgia': named for Word headings; the PDF uses DejaVu Sans, the font it can embed"
    ]
    assert client.get("/v1/brands/bad").status_code == 404


@pytest.mark.parametrize(
    "font",
    ["Georgia\x07", "Arial\nBlack", "\u202eGeorgia", "A" * 32, " Georgia", "Open Sans Condensed Light Italic Pro"],
)
def test_a_font_name_an_office_file_cannot_hold_is_refused(client, font):
    body = problem(
        client.put("/v1/brands/odd", json={"primary": NAVY, "accent": ORANGE, "font": font}), 422, "invalid_brand"
    )
    assert body["problems"][0].startswith("font: ") and "at most 31 printable characters" in body["problems"][0]
    assert client.get("/v1/brands/odd").status_code == 404


@pytest.mark.parametrize("font", ["A" * 31, "Source Sans 3", "微软雅黑", "Noto Sans CJK SC"])
def test_a_printable_font_name_of_up_to_31_characters_is_kept(client, font):
    r = client.put("/v1/brands/ok", json={"primary": NAVY, "accent": ORANGE, "font": font})
    assert r.status_code in (200, 201) and r.json()["font"] == font


def test_an_unknown_brand_is_refused_before_anything_is_queued(client, images):
    client.put("/v1/brands/acme", json={"primary": NAVY, "accent": ORANGE})
    before, datasets = client.get("/v1/jobs").json()["count"], client.get("/v1/datasets").json()["count"]
    plan = json.loads((PLANS / "lesson_plan.json").read_text())
    body = problem(client.post("/v1/jobs", json={"plan": plan, "brand": "nope"}), 422, "unknown_brand")
    assert body["detail"].startswith("unknown brand 'nope'; your brand kits: 'acme'")
    files = {"files": ("sales.csv", EXAMPLE.read_bytes(), "text/csv")}
    problem(client.post("/v1/jobs/upload", files=files, data={"prompt": "x", "brand": "nope"}), 422, "unknown_brand")
    assert client.get("/v1/jobs").json()["count"] == before
    assert client.get("/v1/datasets").json()["count"] == datasets  # the upload form stored no file either
    schedule = {"name": "s", "cron": "0 8 * * *", "job": {"plan": plan, "source": {"dataset": "x"}, "brand": "nope"}}
    problem(client.post("/v1/schedules", json=schedule), 422, "unknown_brand")
    schedule["job"]["brand"] = "acme"
    created = client.post("/v1/schedules", json=schedule)
    assert created.status_code == 201, created.text
    assert created.json()["job"]["brand"] == "acme"
    patch = {"job": {**schedule["job"], "brand": "nope"}}
    problem(client.patch(f"/v1/schedules/{created.json()['id']}", json=patch), 422, "unknown_brand")


SPONSOR_PLAN: dict[str, Any] = {
    # the plan's own meta.brand loses to the kit the job names
    "meta": {"title": "Sponsorship", "brand": {"primary": GREEN, "accent": GREEN, "logo": "missing.png"}},
    "blocks": [
        {"type": "heading", "text": "Packages", "level": 1},
        {"type": "table", "title": "Tiers", "columns": ["Tier", "Price"], "rows": [["Gold", 5000], ["Silver", 2500]]},
        {"type": "chart", "kind": "bar", "title": "Reach", "columns": ["Channel", "People"],
         "rows": [["Web", 1000], ["Print", 400]], "x": "Channel", "y": ["People"]},
        {"type": "image", "source": "photo.png", "alt": "The venue", "caption": "The venue", "width": 0.5},
        {"type": "image", "source": "diagram.svg", "alt": "The stand", "caption": "The stand"},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def branded(client, images) -> dict[str, Any]:
    kit = {"primary": NAVY, "accent": ORANGE, "logo": "logo.png", "font": "Georgia"}
    assert client.put("/v1/brands/sponsor", json=kit).status_code in (200, 201)
    r = client.post("/v1/jobs", json={"plan": SPONSOR_PLAN, "brand": "sponsor"})
    assert r.status_code == 202, r.text
    job = finished(client, r.json()["id"])
    return {"job": job, **{fmt: artifact(client, job, fmt) for fmt in ("docx", "xlsx", "pdf")}}


def test_a_job_naming_a_kit_renders_with_its_colours_and_logo_in_every_format(client, images, branded):
    job = branded["job"]
    assert job["brand"] == "sponsor"
    # without the kit, the plan's own brand names a logo nobody uploaded
    refused = problem(client.post("/v1/jobs", json={"plan": SPONSOR_PLAN}), 422, "invalid_plan")
    assert refused["problems"][0].startswith("meta.brand.logo: no image file 'missing.png' given with the job")
    plan = client.get(f"/v1/jobs/{job['id']}/plan").json()
    assert plan["meta"]["brand"] | {"palette": []} == {
        "primary": NAVY, "accent": ORANGE, "palette": [], "font": "Georgia", "logo": "logo.png", "organisation": None
    }  # fmt: skip
    # the images the plan and the kit name travel with the job like data files (and its provenance)
    assert {images[n]["id"] for n in images} <= set(job["dataset_ids"])

    styles = zipped(branded["docx"], "word/styles.xml")
    heading = re.search(r'w:styleId="Heading1".*?</w:style>', styles, re.S)
    assert heading and 'w:color w:val="1B2A4A"' in heading.group(0) and "Georgia" in heading.group(0)
    assert 'w:fill="1B2A4A"' in zipped(branded["docx"], "word/document.xml")  # table header
    assert "<pic:pic" in zipped(branded["docx"], "word/header")  # the logo

    ws = openpyxl.load_workbook(io.BytesIO(branded["xlsx"]))["Summary"]
    assert [c for row in ws.iter_rows() for c in row if c.value == "Tier"][0].fill.fgColor.rgb == "FF1B2A4A"
    assert '<a:srgbClr val="1B2A4A"/>' in zipped(branded["xlsx"], "xl/charts/chart")

    reader = pypdf.PdfReader(io.BytesIO(branded["pdf"]))
    content = b"".join(p.get_contents().get_data() for p in reader.pages)
    assert b".105882 .164706 .290196 rg" in content  # navy: headings, header fills, the SVG's circle
    assert b".180392 .490196 .196078 rg" not in content  # the plan's own green lost to the kit


def test_uploaded_png_and_svg_images_fill_a_jobs_image_blocks(branded):
    document = docx.Document(io.BytesIO(branded["docx"]))
    _chart, photo, diagram = document.inline_shapes
    assert abs(photo.width / photo.height - 2.0) < 0.01 and abs(diagram.width / diagram.height - 2.0) < 0.01
    assert photo.width < diagram.width  # half the text width, then all of it
    assert len(openpyxl.load_workbook(io.BytesIO(branded["xlsx"]))["Summary"]._images) == 3  # logo, photo, diagram


def test_the_one_shot_upload_takes_images_and_a_brand(client, images):
    plan = {"meta": {"title": "Stand"}, "blocks": [{"type": "image", "source": "stand.png", "alt": "The stand"}]}
    r = client.post(
        "/v1/jobs/upload",
        files=[("files", ("stand.png", png(100, 100, NAVY), "image/png"))],
        data={"plan": json.dumps(plan), "brand": "sponsor", "formats": "docx"},
    )
    assert r.status_code == 202, r.text
    job = finished(client, r.json()["id"])
    stand = next(
        d for d in client.get("/v1/datasets", params={"kind": "image"}).json()["data"] if d["name"] == "stand.png"
    )
    assert stand["id"] in job["dataset_ids"]
    document = docx.Document(io.BytesIO(artifact(client, job, "docx")))
    assert len(document.inline_shapes) == 1


def test_what_the_qa_pass_finds_is_kept_on_the_job_and_shown_on_its_page(client, branded):
    job = branded["job"]
    # the kit's font cannot be embedded in the PDF: a fallback the QA pass records
    assert job["warnings"] == [
        "brand font 'Georgia': named for Word headings; the PDF uses DejaVu Sans, the font it can embed"
    ]
    page = client.get(f"/jobs/{job['id']}", headers={"accept": "text/html"})
    assert page.status_code == 200
    section = re.search(r'<div class="notice warnings" id="warnings".*?</div>', page.text, re.S)
    assert section and "1 warning from the check before delivery" in section.group(0)
    assert "<li>brand font &#39;Georgia&#39;: named for Word headings" in section.group(0)


def test_an_example_plan_has_no_warnings(client):
    plan = json.loads((PLANS / "prd.json").read_text())
    r = client.post("/v1/jobs", json={"plan": plan})
    assert r.status_code == 202, r.text
    job = finished(client, r.json()["id"])
    assert job["warnings"] == []
    assert 'id="warnings"' not in client.get(f"/jobs/{job['id']}", headers={"accept": "text/html"}).text


def test_a_scheduled_run_applies_the_kit_its_schedule_names(client, images, branded):
    with EXAMPLE.open("rb") as f:
        assert client.post("/v1/datasets", files={"file": ("sales.csv", f)}, data={"name": "sales"}).status_code == 201
    plan = json.loads((PLANS / "lesson_plan.json").read_text())
    schedule = {
        "name": "weekly",
        "cron": "0 8 * * mon",
        "job": {"plan": plan, "source": {"dataset": "sales"}, "brand": "sponsor"},
    }
    created = client.post("/v1/schedules", json=schedule)
    assert created.status_code == 201, created.text
    run = client.post(f"/v1/schedules/{created.json()['id']}/run").json()
    job = finished(client, run["job_id"])
    assert job["brand"] == "sponsor" and images["logo.png"]["id"] in job["dataset_ids"]
    assert client.get(f"/v1/jobs/{job['id']}/plan").json()["meta"]["brand"]["primary"] == NAVY
    assert "<pic:pic" in zipped(artifact(client, job, "docx"), "word/header")  # the kit's logo
