"""The QA pass's read-back of a written deck: every text box and table fits its slide by the font's
metrics, every chart has data, and what the renderer moved to the speaker notes is reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.oxml.ns import qn

from docagent.renderers import measure
from docagent.renderers.deck import INSET_X, INSET_Y, MARKERS


def _para_height(p: Any, avail: float) -> float:
    text = "".join(r.text for r in p.runs)
    sizes = [r.font.size.pt for r in p.runs if r.font.size is not None] or [18.0]
    bold = any(r.font.bold for r in p.runs)
    p_pr = p._p.pPr
    indent = int(p_pr.get("marL", "0")) / 12700 if p_pr is not None else 0.0
    before = p.space_before.pt if p.space_before is not None else 0.0
    n = len(measure.wrap(text, avail - indent, max(sizes), bold))
    return measure.lines_height(n, max(sizes)) + before


def _inset(v: Any, default: float) -> float:
    return v / 12700 if v is not None else default


def _table_height(tbl: Any) -> float:
    """Rows grow to hold their text: the table's height as a viewer lays it out (read from the XML,
    as python-pptx's cell proxies are too slow for a few hundred rows)."""
    widths = [int(g.get("w")) / 12700 for g in tbl.iter(qn("a:gridCol"))]
    total = 0.0
    for tr in tbl.iter(qn("a:tr")):
        need = int(tr.get("h")) / 12700
        for tc, w in zip(tr.iter(qn("a:tc")), widths, strict=False):
            pr = tc.find(qn("a:tcPr"))
            pad_x = sum(int(pr.get(k, "91440")) for k in ("marL", "marR")) / 12700 if pr is not None else 2 * INSET_X
            pad_y = sum(int(pr.get(k, "45720")) for k in ("marT", "marB")) / 12700 if pr is not None else 2 * INSET_Y
            for p in tc.iter(qn("a:p")):
                runs = list(p.iter(qn("a:rPr")))
                size = max((int(r.get("sz", "1800")) / 100 for r in runs), default=18.0)
                bold = any(r.get("b") == "1" for r in runs)
                text = "".join(t.text or "" for t in p.iter(qn("a:t")))
                need = max(need, measure.lines_height(len(measure.wrap(text, w - pad_x, size, bold)), size) + pad_y)
        total += need
    return total


def check_deck(path: Path, notes: bool = True) -> list[str]:
    """Every text box and table fits its slide by the font's metrics; every chart has data; with
    `notes`, also each slide whose notes hold text that did not fit on it (marked by the renderer)."""
    prs = Presentation(str(path))
    sw, sh = (prs.slide_width or 0) / 12700, (prs.slide_height or 0) / 12700
    out = []
    for n, slide in enumerate(prs.slides, 1):
        for shape in slide.shapes:
            x, y = (shape.left or 0) / 12700, (shape.top or 0) / 12700
            w, h = (shape.width or 0) / 12700, (shape.height or 0) / 12700
            where = f"slide {n}, {shape.name}"
            if x < -0.5 or y < -0.5 or x + w > sw + 0.5 or y + h > sh + 0.5:
                out.append(f"{where}: lies outside the slide")
            if shape.has_text_frame and shape.text_frame.text.strip():
                tf = shape.text_frame
                avail_w = w - _inset(tf.margin_left, INSET_X) - _inset(tf.margin_right, INSET_X)
                need = sum(_para_height(p, avail_w) for p in tf.paragraphs)
                room = h - _inset(tf.margin_top, INSET_Y) - _inset(tf.margin_bottom, INSET_Y)
                if need > room + 1:
                    out.append(f"{where}: text needs {need:.0f}pt but the box is {room:.0f}pt high")
            if shape.has_table:
                total = _table_height(shape.table._tbl)
                if y + total > sh:
                    out.append(f"{where}: the table needs {total:.0f}pt and runs off the slide")
            if shape.has_chart:
                series = [s for plot in shape.chart.plots for s in plot.series]
                if not series or any(not [v for v in s.values if v is not None] for s in series):
                    out.append(f"{where}: a chart without data")
        said = slide.notes_slide.notes_text_frame.text if notes and slide.has_notes_slide else ""
        moved = sum(said.count(m) for m in MARKERS)
        if moved:
            title = slide.shapes.title.text_frame.text if slide.shapes.title is not None else ""
            out.append(f"slide {n} {title!r}: {moved} passage(s) did not fit and are in the speaker notes")
    return out


__all__ = ["check_deck"]
