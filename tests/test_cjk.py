"""A Chinese report: Chinese prompt, column names and values, in all three formats."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from docagent.pipeline.generate import generate
from docagent.renderers.fonts import find_fonts
from tests.conftest import needs_poppler, needs_soffice

pytestmark = pytest.mark.skipif(find_fonts().cjk is None, reason="no CJK font installed (fonts-wqy-zenhei)")

CSV = """日期,地区,产品,销售额
2025-01-05,华东,笔记本电脑,12000
2025-01-18,华南,显示器,3400
2025-02-03,华北,笔记本电脑,15800
2025-02-21,华东,键盘,900
2025-03-09,华南,笔记本电脑,14100
2025-03-30,华北,显示器,4100
2025-04-12,西部,键盘,1200
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("zh")
    (d / "销售.csv").write_text(CSV, encoding="utf-8")
    outcome = generate([d / "销售.csv"], "请生成一份季度销售分析报告", out_dir=d / "out", planner="rules")
    assert outcome.planned.plan.meta.language == "zh"
    return outcome.files


def text_of(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def fonts_of(pdf: Path) -> str:
    return subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout


@needs_poppler
def test_pdf_text_extracts_chinese(report):
    text = text_of(report["pdf"])
    for word in ["季度销售分析报告", "摘要", "华东", "笔记本电脑", "销售额", "附录：数据字典"]:
        assert word in text, word
    assert "WenQuanYi" in fonts_of(report["pdf"]) or "Droid" in fonts_of(report["pdf"])


@needs_soffice
@needs_poppler
@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_libreoffice_renders_the_glyphs(report, fmt, tmp_path):
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(report[fmt])],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = tmp_path / (report[fmt].stem + ".pdf")
    assert "华东" in text_of(pdf)
    fonts = fonts_of(pdf)
    assert any(name in fonts for name in ("WenQuanYi", "Droid", "Noto")), fonts


@needs_poppler
def test_the_contents_page_and_every_font_of_a_chinese_pdf_are_real_glyphs_embedded(tmp_path):
    from docagent.engine.bind import Bound
    from docagent.engine.plan import Plan
    from docagent.renderers import render_all

    heads = ["概述", "区域销售", "结论与建议"]
    blocks = [
        b
        for h in heads
        for b in ({"type": "heading", "text": h, "level": 1}, {"type": "paragraph", "text": "华东增长最快。"})
    ]
    plan = Plan.model_validate({"meta": {"title": "季度报告", "language": "zh", "contents": True}, "blocks": blocks})
    files, _ = render_all(Bound(plan), "corporate", tmp_path, "zh", ["pdf"])
    first = subprocess.run(["pdftotext", "-l", "1", str(files["pdf"]), "-"], capture_output=True, text=True).stdout
    assert "目录" in first and all(h in first for h in heads), first  # the contents entries, not empty boxes
    rows = fonts_of(files["pdf"]).splitlines()[2:]
    assert rows and all(r.split()[-5] == "yes" for r in rows), rows  # pdffonts' "emb" column
