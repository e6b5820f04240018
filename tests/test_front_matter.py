"""What opens a document and what frames each page: a cover and contents only where they help,
the owner's name (never the product's) in footers and properties, and null read as "the default"."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import docx
import pytest
from pptx import Presentation

from docagent.engine.bind import Bound, bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.plan import Plan
from docagent.engine.validate import validate
from docagent.renderers import pdf, render_all
from docagent.renderers.common import MAX_PLAIN_PAGES
from tests.conftest import EXAMPLE, needs_poppler


def pages_text(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return out.split("\f")[:-1]


def sections(n: int, words: int = 40) -> list[dict[str, Any]]:
    body = " ".join(["The quarter closed ahead of plan in every region we serve."] * words)
    return [
        b
        for k in range(n)
        for b in ({"type": "heading", "text": f"Part {k + 1}", "level": 1}, {"type": "paragraph", "text": body})
    ]


def render(meta: dict[str, Any], blocks: list[dict[str, Any]], tmp: Path, formats=("pdf", "docx")) -> dict[str, Path]:
    plan = Plan.model_validate({"meta": {"title": "Quarterly letter", **meta}, "blocks": blocks})
    tmp.mkdir(parents=True, exist_ok=True)
    files, _ = render_all(Bound(plan), "corporate", tmp, "doc", list(formats))
    return files


@needs_poppler
@pytest.mark.parametrize(
    ("meta", "n", "contents"),
    [
        ({}, 2, False),  # two pages: opens on its content
        ({"kind": "letter"}, 12, False),  # a letter never has a contents list
        ({"contents": True, "language": "fr"}, 2, True),  # asked for: there, in the language
        ({}, 12, True),  # a long report lists its sections
        ({"contents": False}, 12, False),
    ],
)
def test_contents_list_only_where_auto_or_the_plan_wants_it(tmp_path, meta, n, contents):
    files = render(meta, sections(n), tmp_path)
    first = pages_text(files["pdf"])[0]
    title = "Sommaire" if meta.get("language") == "fr" else "Contents"
    assert (title in first) == contents, first[:300]
    toc = 'TOC \\o "1-3"' in docx.Document(str(files["docx"])).element.xml
    assert toc == contents


@needs_poppler
@pytest.mark.parametrize(("meta", "contents"), [({}, True), ({"cover": False}, False)])
def test_a_long_document_is_not_drawn_twice_to_count_its_pages(tmp_path, monkeypatch, meta, contents):
    """The build that counts pages for "auto" stops as its fourth page begins; the document is then built
    once with its front matter. Without headings and with no cover that front matter is none at all."""
    begun: list[tuple[int | None, int]] = []  # (the build's page limit, the page begun)
    original = pdf._Doc.beforePage

    def spy(self: pdf._Doc) -> None:
        begun.append((self.page_limit, self.page))
        original(self)

    monkeypatch.setattr(pdf._Doc, "beforePage", spy)
    blocks = sections(12) if contents else [b for b in sections(12) if b["type"] == "paragraph"]
    files = render(meta, blocks, tmp_path, formats=("pdf",))
    counted = [page for limit, page in begun if limit is not None]
    assert counted == list(range(1, MAX_PLAIN_PAGES + 2))
    pages = pages_text(files["pdf"])
    assert len(pages) > MAX_PLAIN_PAGES and ("Contents" in pages[0]) == contents
    assert "Part 12" in pages[-1] if contents else "ahead of plan" in pages[-1]


@needs_poppler
def test_a_short_document_opens_on_its_content_and_a_cover_is_a_page_of_its_own(tmp_path):
    short = pages_text(render({}, sections(1, 5), tmp_path / "a")["pdf"])
    assert "The quarter closed" in short[0] and len(short) == 1
    covered = pages_text(render({"cover": True, "contents": False}, sections(1, 5), tmp_path / "b")["pdf"])
    assert "The quarter closed" not in covered[0] and "The quarter closed" in covered[1]


@needs_poppler
def test_footer_and_author_name_the_owner_never_the_product(tmp_path):
    import pypdf

    brand = {"primary": "#1B2A4A", "accent": "#F28C28", "organisation": "Northwind Traders", "font": None}
    files = render({"brand": brand}, sections(6), tmp_path, ("pdf", "docx", "pptx"))
    text = "\n".join(pages_text(files["pdf"]))
    assert "docagent" not in text.lower() and text.count("Northwind Traders") >= 2
    assert pypdf.PdfReader(files["pdf"]).metadata.author == "Northwind Traders"
    assert docx.Document(str(files["docx"])).core_properties.author == "Northwind Traders"
    assert Presentation(str(files["pptx"])).core_properties.author == "Northwind Traders"
    bare = "\n".join(pages_text(render({}, sections(6), tmp_path / "bare")["pdf"]))
    assert "docagent" not in bare.lower()


@pytest.mark.parametrize(
    "plan",
    [
        {
            "meta": {"title": "T", "brand": {"primary": "#000000", "accent": "#FFFFFF", "font": None}},
            "blocks": [{"type": "paragraph", "text": "x"}],
        },
        {
            "meta": {"title": "T", "kind": None, "currency": None},
            "blocks": [{"type": "image", "source": None, "alt": "a", "aspect": None}],
        },
    ],
)
def test_null_for_a_field_with_a_default_means_the_default(plan):
    parsed = Plan.model_validate(plan)
    assert parsed.meta.currency == "USD" and (parsed.meta.brand is None or parsed.meta.brand.font == "")


def test_a_deck_names_its_source_once_with_no_placeholder_left(tmp_path):
    plan = {
        "meta": {"title": "Sales"},
        "blocks": [
            {
                "type": "table",
                "title": "Revenue by region",
                "query": {"dataset": "sales", "select": [{"column": "region"}, {"agg": "sum", "column": "revenue"}]},
            }
        ],
    }
    with Catalog() as c:
        c.ingest(EXAMPLE)
        bound = bind(validate(Plan.model_validate(plan), c), c)
    files, _ = render_all(bound, "corporate", tmp_path, "deck", ["pptx"])
    deck = Presentation(str(files["pptx"]))
    text = "\n".join(s.text_frame.text for slide in deck.slides for s in slide.shapes if s.has_text_frame)
    assert "Source: sales.csv." in text and "{source}" not in text and "Source: Source" not in text
