"""Fill mode and bursting: an organisation's .docx filled with bound values, one letter per customer."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from docagent.errors import PlanError, RenderError
from docagent.pipeline.generate import render_plan
from tests.conftest import needs_soffice
from tests.orgtemplates import (
    INVOICES,
    LETTER_PLAN,
    letter_from_libreoffice,
    letter_from_python_docx,
    soffice_convert,
)

BURST = {"by": "customer", "dataset": "invoices", "filename": "letter-{customer}"}
BALANCES = {"Acme Corp": "$300.50", "Birch & Co": "$75.25", "Cedar Ltd": "$60.00"}


def _plan(**meta) -> dict:
    plan = copy.deepcopy(LETTER_PLAN)
    plan["meta"].update(meta)
    return plan


def _data(tmp_path: Path) -> Path:
    path = tmp_path / "invoices.csv"
    path.write_text(INVOICES, encoding="utf-8")
    return path


def _text(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def _burst(tmp_path: Path, template: Path) -> dict[str, Path]:
    named = template.with_name("letter.docx")
    if named != template:
        named.write_bytes(template.read_bytes())
    out = tmp_path / "out"
    files = render_plan(_plan(burst=BURST), [_data(tmp_path)], ["docx"], out, templates=[named])
    return {p.name: p for p in (out / "burst").iterdir()} | {"zip": files["zip"]}


@pytest.mark.parametrize("make", [pytest.param(letter_from_libreoffice, marks=needs_soffice), letter_from_python_docx])
def test_bursting_writes_one_letter_per_customer_with_its_own_balance_and_invoices(tmp_path, make):
    files = _burst(tmp_path, make(tmp_path))
    names = sorted(n for n in files if n != "zip")
    assert names == ["letter-Acme Corp.docx", "letter-Birch & Co.docx", "letter-Cedar Ltd.docx"]
    with zipfile.ZipFile(files["zip"]) as z:
        assert sorted(z.namelist()) == names
    for customer, balance in BALANCES.items():
        doc = Document(str(files[f"letter-{customer}.docx"]))
        text = _text(doc)
        assert f"Dear {customer}," in text
        assert f"Your balance is {balance}." in text
        assert "{{" not in text
        rows = [[c.text for c in r.cells] for r in doc.tables[0].rows]
        assert rows[0] == ["Invoice", "Amount"]
        expected = {"Acme Corp": 2, "Birch & Co": 1, "Cedar Ltd": 3}[customer]
        assert len(rows) == 1 + expected  # the template row repeated per invoice, nothing else
        assert all(r[0].startswith("INV-") and r[1].startswith("$") for r in rows[1:])


@pytest.mark.parametrize("make", [pytest.param(letter_from_libreoffice, marks=needs_soffice), letter_from_python_docx])
def test_a_filled_letter_has_only_what_the_template_has_no_title_block_or_running_header(tmp_path, make):
    template = make(tmp_path)
    before = Document(str(template))
    doc = Document(str(_burst(tmp_path, template)["letter-Birch & Co.docx"]))
    assert doc.paragraphs[0].text == "Statement of account"  # no "Balance letters" title block before it
    assert len(doc.paragraphs) == len(before.paragraphs)
    headers = [p.text for s in doc.sections for p in s.header.paragraphs if p.text]
    assert headers == ["Acme Ltd - Accounts receivable"]  # the template's header, no running header of ours
    assert doc.sections[0].left_margin == before.sections[0].left_margin
    assert [p.style.name for p in doc.paragraphs] == [p.style.name for p in before.paragraphs]


@pytest.mark.parametrize("make", [pytest.param(letter_from_libreoffice, marks=needs_soffice), letter_from_python_docx])
def test_a_split_placeholder_keeps_the_formatting_of_the_run_it_starts_in(tmp_path, make):
    doc = Document(str(_burst(tmp_path, make(tmp_path))["letter-Acme Corp.docx"]))
    para = next(p for p in doc.paragraphs if p.text.startswith("Your balance"))
    value = next(r for r in para.runs if "$300.50" in r.text)
    assert value.text == "$300.50"
    assert value.bold and not value.italic


def test_a_placeholder_nothing_fills_is_a_plan_problem_the_model_can_repair(tmp_path):
    plan = _plan(burst=BURST)
    plan["metrics"][0]["name"] = "total"
    with pytest.raises(PlanError) as e:
        render_plan(plan, [_data(tmp_path)], ["docx"], tmp_path / "out", templates=[letter_from_python_docx(tmp_path)])
    text = "\n".join(e.value.problems)
    assert "no template 'letter.docx' was given" in text  # named by file name, like images
    named = tmp_path / "letter.docx"
    named.write_bytes(letter_from_python_docx(tmp_path).read_bytes())
    with pytest.raises(PlanError) as e:
        render_plan(plan, [_data(tmp_path)], ["docx"], tmp_path / "out", templates=[named])
    assert any("{{balance}} is not filled by anything" in p for p in e.value.problems), e.value.problems


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"by": "region"}, "meta.burst.by: 'invoices' has no column 'region'"),
        ({"dataset": "orders"}, "meta.burst.dataset: no dataset 'orders'"),
        ({"filename": "letter-{name}"}, "meta.burst.filename: {name} is neither the burst column nor a metric"),
        ({"filename": "../x-{customer}"}, "without folders"),
    ],
)
def test_a_burst_that_cannot_work_is_a_plan_problem(tmp_path, change, message):
    named = tmp_path / "letter.docx"
    named.write_bytes(letter_from_python_docx(tmp_path).read_bytes())
    with pytest.raises(PlanError) as e:
        render_plan(_plan(burst={**BURST, **change}), [_data(tmp_path)], ["docx"], tmp_path / "o", templates=[named])
    assert any(message in p for p in e.value.problems), e.value.problems


def test_a_placeholder_left_in_a_filled_file_fails_rather_than_ships(tmp_path):
    from docagent.engine.templatefiles.binding import FillValues
    from docagent.renderers.docfill import fill_docx

    with pytest.raises(RenderError, match=r"\{\{balance\}\}"):
        fill_docx(letter_from_python_docx(tmp_path).read_bytes(), FillValues({"customer": "X"}), tmp_path / "x.docx")
    assert not (tmp_path / "x.docx").exists()


@needs_soffice
def test_every_filled_letter_passes_the_ooxml_audit_and_converts_with_libreoffice(tmp_path):
    files = _burst(tmp_path, letter_from_libreoffice(tmp_path))
    letter = files["letter-Cedar Ltd.docx"]
    audit = subprocess.run(
        [str(Path(sys.executable).with_name("openxml-audit")), str(letter)], capture_output=True, text=True
    )
    assert "Errors: 0" in audit.stdout, audit.stdout[-2000:]
    pdf = soffice_convert(letter, "pdf", tmp_path)
    assert pdf.stat().st_size > 1000


def test_the_command_line_takes_a_template_and_prints_the_zip_then_each_letter(tmp_path):
    from tests.test_cli import run

    named = tmp_path / "letter.docx"
    named.write_bytes(letter_from_python_docx(tmp_path).read_bytes())
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(_plan(burst=BURST)), encoding="utf-8")
    out = tmp_path / "out"
    r = run("render", str(plan), str(_data(tmp_path)), "--template", str(named), "--format", "docx", "--out", str(out))
    assert r.returncode == 0, r.stderr
    paths = [Path(line) for line in r.stdout.splitlines()]
    assert [p.name for p in paths] == [
        "Balance-letters.zip", "letter-Acme Corp.docx", "letter-Birch & Co.docx", "letter-Cedar Ltd.docx"
    ]  # fmt: skip
    assert all(p.is_file() for p in paths)


def test_the_example_letter_template_bursts_one_letter_per_customer(tmp_path):
    examples = Path(__file__).resolve().parent.parent / "examples"
    plan = json.loads((examples / "plans" / "balance_letters.json").read_text(encoding="utf-8"))
    files = render_plan(
        plan,
        [examples / "invoices.csv"],
        ["docx"],
        tmp_path,
        templates=[examples / "templates" / "balance-letter.docx"],
    )
    letters = sorted(k for k in files if k.startswith("burst/"))
    assert len(letters) == 4
    doc = Document(str(files["burst/balance-letter-Northgate Dental.docx"]))
    text = _text(doc)
    assert "Our records show a balance of $1,473.20 on your account. The open invoices (4)" in text
    assert len(doc.tables[0].rows) == 5 and "{{" not in text


def test_a_tagged_content_control_is_filled_like_a_placeholder_in_its_run_formatting(tmp_path):
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    doc = Document()
    p = doc.add_paragraph("Balance due: ")
    p._p.append(parse_xml(
        f'<w:sdt {nsdecls("w")}><w:sdtPr><w:tag w:val="balance"/><w:showingPlcHdr/></w:sdtPr><w:sdtContent>'
        '<w:r><w:rPr><w:rStyle w:val="PlaceholderText"/><w:b/></w:rPr><w:t>Click to enter</w:t></w:r>'
        "<w:r><w:t> the amount</w:t></w:r></w:sdtContent></w:sdt>"
    ))  # fmt: skip
    doc.add_paragraph("Dear {{customer}},")
    named = tmp_path / "letter.docx"
    doc.save(str(named))
    plan = _plan(burst=BURST)
    plan["blocks"][0]["title"] = "Unused table"
    files = render_plan(plan, [_data(tmp_path)], ["docx"], tmp_path / "out", templates=[named])
    filled = Document(str(files["burst/letter-Birch & Co.docx"]))
    sdt = filled.paragraphs[0]._p.find(qn("w:sdt"))
    runs = sdt.findall(f"{qn('w:sdtContent')}/{qn('w:r')}")
    assert len(runs) == 1 and runs[0].find(qn("w:t")).text == "$75.25"
    assert runs[0].find(f"{qn('w:rPr')}/{qn('w:b')}") is not None  # bold kept
    assert runs[0].find(f"{qn('w:rPr')}/{qn('w:rStyle')}") is None  # no longer grey prompt text
    assert sdt.find(f"{qn('w:sdtPr')}/{qn('w:showingPlcHdr')}") is None


def test_a_burst_without_a_template_writes_one_report_per_value_in_the_usual_look(tmp_path):
    from tests.conftest import EXAMPLE

    plan = {
        "meta": {"title": "Regional report", "burst": {"by": "region", "dataset": "sales", "filename": "report-{region}"}},
        "metrics": [{"name": "revenue", "label": "Revenue", "dataset": "sales", "agg": "sum", "column": "revenue",
                     "format": "currency"}],
        "blocks": [{"type": "paragraph", "text": "Revenue was {revenue}."}],
    }  # fmt: skip
    files = render_plan(plan, [EXAMPLE], ["docx"], tmp_path)
    letters = sorted(k for k in files if k.startswith("burst/"))
    assert letters == [f"burst/report-{r}.docx" for r in ("Central", "East", "North", "South", "West")]
    texts = {k: _text(Document(str(files[k]))) for k in letters}
    revenues = {next(line for line in t.splitlines() if line.startswith("Revenue was")) for t in texts.values()}
    assert len(revenues) == 5  # each report bound to its own region
