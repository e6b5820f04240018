"""Templates organisations bring: checked as real packages without macros or external links, and profiled."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from docagent.engine.templatefiles import read_template, template_prompt
from docagent.errors import UnsafeArchive, UnsupportedFormat
from tests.conftest import needs_soffice
from tests.orgtemplates import letter_from_libreoffice, letter_from_python_docx


@needs_soffice
def test_a_libreoffice_letter_is_profiled_with_its_placeholders_header_margins_and_styles(tmp_path):
    tpl = read_template(letter_from_libreoffice(tmp_path), "letter.docx")
    prof = tpl.profile
    assert prof["kind"] == "docx"
    assert prof["placeholders"] == ["customer", "balance", "table:invoices.invoice", "table:invoices.amount"]
    assert prof["headers"] == ["Acme Ltd - Accounts receivable"]
    assert prof["page"]["margins_mm"]["left"] == pytest.approx(30, abs=0.5)
    assert prof["page"]["width_mm"] == pytest.approx(210, abs=0.5)
    assert "Heading 1" in prof["styles"]["paragraph"]


def test_a_placeholder_split_across_runs_is_found_whole(tmp_path):
    prof = read_template(letter_from_python_docx(tmp_path)).profile
    assert "balance" in prof["placeholders"]
    assert "bal" not in " ".join(p for p in prof["placeholders"] if p != "balance")


def test_the_checked_package_is_the_same_bytes_whenever_it_is_checked(tmp_path, monkeypatch):
    """An unchanged re-upload is recognised by its bytes: the repackaged template must not carry the clock."""
    import time

    path = letter_from_python_docx(tmp_path)
    first = read_template(path).data
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)  # an hour on: zipfile stamps parts written by name with it
    assert read_template(path).data == first


def test_a_deck_lists_its_layouts_and_their_placeholders(tmp_path):
    from pptx import Presentation

    deck = Presentation()
    deck.slides.add_slide(deck.slide_layouts[0]).shapes.title.text = "{{company}} review"
    path = tmp_path / "brand.pptx"
    deck.save(str(path))
    prof = read_template(path).profile
    names = [lay["name"] for lay in prof["layouts"]]
    assert "Title Slide" in names and "Title and Content" in names
    title = next(lay for lay in prof["layouts"] if lay["name"] == "Title Slide")
    assert {"type": "ctrTitle", "idx": 0} in title["placeholders"]
    assert prof["placeholders"] == ["company"]


def test_a_workbook_lists_its_defined_names_and_tables(tmp_path):
    from openpyxl import Workbook
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.table import Table

    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["Region", "Revenue"])
    ws.append(["North", 1])
    ws.add_table(Table(displayName="Sales", ref="A1:B2"))
    wb.defined_names["TaxRate"] = DefinedName("TaxRate", attr_text="Data!$B$2")
    path = tmp_path / "book.xlsx"
    wb.save(path)
    prof = read_template(path).profile
    assert prof["sheets"] == ["Data"]
    assert [d["name"] for d in prof["defined_names"]] == ["TaxRate"]
    assert prof["tables"] == [{"name": "Sales", "ref": "A1:B2", "columns": ["Region", "Revenue"]}]


def _rezip(src: Path, dst: Path, change: dict[str, bytes | None]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename in change:
                continue
            zout.writestr(info, zin.read(info))
        for name, data in change.items():
            if data is not None:
                zout.writestr(name, data)
    return dst


@pytest.mark.parametrize("suffix", [".docm", ".pptm", ".xlsm", ".dotm"])
def test_a_macro_enabled_name_is_refused(tmp_path, suffix):
    path = tmp_path / f"t{suffix}"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(UnsupportedFormat, match="macros"):
        read_template(path)


def test_a_package_carrying_a_vba_project_is_refused_whatever_its_name(tmp_path):
    path = _rezip(letter_from_python_docx(tmp_path), tmp_path / "sneaky.docx", {"word/vbaProject.bin": b"\0" * 10})
    with pytest.raises(UnsupportedFormat, match="macros"):
        read_template(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.docx", b"just text", "not a zip package"),
        ("empty.docx", None, "no \\[Content_Types\\].xml"),
        ("deck.docx", "pptx", "no main docx part"),
        ("letter.odt", b"PK", "must be .docx, .pptx or .xlsx"),
    ],
)
def test_what_is_not_a_template_of_its_type_is_refused(tmp_path, name, content, message):
    path = tmp_path / name
    if content is None:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("word/document.xml", "<x/>")
    elif content == "pptx":
        from pptx import Presentation

        Presentation().save(str(path))
    else:
        path.write_bytes(content)
    with pytest.raises((UnsafeArchive, UnsupportedFormat), match=message):
        read_template(path)


def test_external_relationships_are_removed_and_what_named_them_too(tmp_path):
    src = letter_from_python_docx(tmp_path)
    with zipfile.ZipFile(src) as z:
        settings = z.read("word/settings.xml").decode()
    link = (
        '<Relationship Id="rIdT" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'attachedTemplate" Target="http://evil.example/t.dotm" TargetMode="External"/>'
        '<Relationship Id="rIdH" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'hyperlink" Target="https://acme.example/" TargetMode="External"/>'
    )
    settings_rels = f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{link}</Relationships>'
    settings = settings.replace("<w:zoom", '<w:attachedTemplate r:id="rIdT"/><w:zoom', 1)
    path = _rezip(src, tmp_path / "linked.docx", {
        "word/_rels/settings.xml.rels": settings_rels.encode(), "word/settings.xml": settings.encode(),
    })  # fmt: skip
    tpl = read_template(path)
    assert tpl.profile["external_links_removed"] == ["http://evil.example/t.dotm"]
    with zipfile.ZipFile(io.BytesIO(tpl.data)) as z:
        kept_rels = z.read("word/_rels/settings.xml.rels").decode()
        kept_settings = z.read("word/settings.xml").decode()
    assert "evil.example" not in kept_rels and "acme.example" in kept_rels  # a hyperlink is kept
    assert "attachedTemplate" not in kept_settings


def test_the_model_is_shown_the_profile_and_how_to_fill_it(tmp_path):
    tpl = read_template(letter_from_python_docx(tmp_path), "letter.docx")
    text = template_prompt({"letter.docx": tpl})
    assert "Template 'letter.docx' (docx)" in text
    assert "{{balance}}" in text and "{{table:invoices.amount}}" in text
    assert "meta.template" in text and "meta.burst" in text
