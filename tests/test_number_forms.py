"""One compact form of a figure in every format: parsed back it is the figure, to its last digit shown."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import docx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pptx import Presentation

from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.formatting import compact, excel_compact, short
from docagent.engine.plan import Plan
from docagent.engine.validate import validate
from docagent.renderers import render_all
from tests.conftest import needs_poppler

# The units a reader knows in each language, written here independently of the formatter.
UNITS = {
    "en": {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12},
    "zh": {"万": 1e4, "亿": 1e8, "万亿": 1e12},
    "ja": {"万": 1e4, "億": 1e8, "兆": 1e12},
    "fr": {"k": 1e3, "M": 1e6, "Md": 1e9, "Bn": 1e12},
    "de": {"Mio.": 1e6, "Mrd.": 1e9, "Bio.": 1e12},
    "es": {"mil": 1e3, "M": 1e6, "mil M": 1e9, "B": 1e12},
    "pt": {"mil": 1e3, "mi": 1e6, "bi": 1e9, "tri": 1e12},
}
DECIMAL = {"en": ".", "zh": ".", "ja": "."}  # the others write a decimal comma
NUMBER = re.compile(r"\d(?:\d|[.,\u202f\u00a0](?=\d))*")


def read_back(text: str, language: str) -> tuple[float, float, float]:
    """The value a reader takes from a compact figure, half a unit of its last digit shown, and its unit."""
    found = NUMBER.search(text)
    assert found, text
    digits = found.group().replace("\u202f", "").replace("\u00a0", "")
    point = DECIMAL.get(language, ",")
    whole, fraction = digits.rsplit(point, 1) if point in digits else (digits, "")
    rest = text[found.end() :].replace("\u00a0", " ").strip()
    unit = next(
        (
            UNITS[language][w]
            for w in sorted(UNITS[language], key=len, reverse=True)
            if re.match(re.escape(w) + r"(?![^\W\d_])", rest)
        ),
        1.0,
    )
    value = float(f"{re.sub(r'[.,]', '', whole)}.{fraction or 0}") * unit
    sign = -1 if text.lstrip().startswith(("-", "−")) else 1
    return sign * value, 0.5 * 10 ** -len(fraction) * unit, unit


@given(
    exponent=st.floats(min_value=-3, max_value=12),
    negative=st.booleans(),
    language=st.sampled_from(sorted(UNITS)),
    currency=st.sampled_from(["USD", "EUR", "GBP", "JPY", "CNY", "INR", "CHF", None]),
)
def test_a_compact_figure_read_back_is_the_value_within_half_its_last_digit(exponent, negative, language, currency):
    value = (-1 if negative else 1) * 10**exponent
    shown = compact(value, language, currency)
    read, half, _ = read_back(shown, language)
    assert abs(read - value) <= half * (1 + 1e-9), shown
    assert not re.search(r"\d{4}\s?(K|k|M|B|mil|mi|Mio)", shown), f"{shown}: a unit that should have moved up"


@pytest.mark.parametrize(
    ("value", "fmt", "currency", "language", "text"),
    [
        (10_000, "currency", "USD", "en", "$10K"),
        (100_000, "currency", "USD", "en", "$100K"),
        (219_749.52, "currency", "USD", "en", "$220K"),
        (250_000, "currency", "USD", "en", "$250K"),
        (2_000_000, "currency", "USD", "en", "$2M"),
        (120_000, "currency", "USD", "en", "$120K"),
        (999_999, "number", "USD", "en", "1M"),
        (5_300_010, "currency", "CNY", "zh", "¥530万"),
        (5_300_010, "number", "CNY", "ja", "530万"),
        (100_000, "currency", "EUR", "fr", "100\u00a0k\u00a0€"),
        (250_000, "currency", "EUR", "de", "250.000\u00a0€"),
    ],
)
def test_round_figures_keep_their_zeros(value, fmt, currency, language, text):
    assert short(value, fmt, currency, language) == text


@pytest.mark.parametrize("language", sorted(UNITS))
def test_the_workbook_format_changes_unit_where_the_text_does(language):
    """A chart axis in the .xlsx/.pptx and a KPI tile in the PDF move to the next unit at one value."""
    fmt = excel_compact(language)
    thresholds = [float(x) for x in re.findall(r"\[>=([\d.]+)\]", fmt)]
    assert thresholds, fmt
    for t in thresholds:  # just below a threshold one unit, from it the next
        below, at = compact(t * 0.99999, language), compact(t, language)
        assert read_back(below, language)[2] < read_back(at, language)[2], (below, at)


# --- the same figures in the files a reader opens ------------------------------------------------

TILES = {"a": 10_000, "b": 100_000, "c": 250_000, "d": 2_000_000, "e": 120_000}


def tiles_plan(currency: str, language: str, values: dict[str, float]) -> dict:
    return {
        "meta": {"title": "Tiles", "currency": currency, "language": language},
        "metrics": [
            {"name": k, "label": f"Figure {k}", "dataset": "tiles", "agg": "sum", "column": k, "format": "currency"}
            for k in values
        ],
        "blocks": [{"type": "kpis", "items": [{"metric": k} for k in values]}],
    }


def texts(files: dict[str, Path]) -> dict[str, str]:
    out = {"pdf": subprocess.run(["pdftotext", str(files["pdf"]), "-"], capture_output=True, text=True).stdout}
    d = docx.Document(str(files["docx"]))
    cells = [c.text for t in d.tables for row in t.rows for c in row.cells]
    out["docx"] = "\n".join([p.text for p in d.paragraphs] + cells)
    deck = Presentation(str(files["pptx"]))
    out["pptx"] = "\n".join(s.text_frame.text for slide in deck.slides for s in slide.shapes if s.has_text_frame)
    return out


@needs_poppler
@pytest.mark.parametrize(
    ("currency", "language", "values", "shown"),
    [
        ("USD", "en", TILES, {"a": "$10K", "b": "$100K", "c": "$250K", "d": "$2M", "e": "$120K"}),
        ("CNY", "zh", {"a": 5_300_010}, {"a": "¥530万"}),
    ],
)
def test_kpi_tiles_read_back_as_their_values_in_every_format(tmp_path, currency, language, values, shown):
    csv = tmp_path / "tiles.csv"
    csv.write_text(",".join(values) + "\n" + ",".join(str(v) for v in values.values()) + "\n")
    with Catalog() as c:
        c.ingest(csv)
        bound = bind(validate(Plan.model_validate(tiles_plan(currency, language, values)), c), c)
    files, _ = render_all(bound, "corporate", tmp_path, "tiles", ["pdf", "docx", "pptx"])
    exact = bound.metric_text
    for fmt, text in texts(files).items():
        for k in values:  # the tile shows the exact figure, or its compact form: never another number
            assert exact[k] in text or shown[k] in text, (fmt, k, text)
        for token in re.findall(r"[$¥]\d[\d.,]*(?:K|M|B|万|亿)?", text):
            read, half, _ = read_back(token, language)
            assert any(abs(read - v) <= half * 1.000001 for v in values.values()), (fmt, token)
