"""Every language docagent writes: detection, phrase tables, number and date forms, and a French report end to end."""

from __future__ import annotations

import datetime as dt
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from docagent.engine import i18n
from docagent.engine.formatting import format_value, short
from docagent.errors import UnsupportedLanguage
from docagent.pipeline.generate import generate
from docagent.renderers.fonts import find_fonts
from tests.conftest import needs_poppler
from tests.language_samples import SAMPLES

NNBSP, NBSP = "\u202f", "\u00a0"
FRENCH_CSV = """Date;Région;Produit;Chiffre d'affaires;Coût
2025-01-15;Île-de-France;Ordinateurs;12345,50;8200,25
2025-02-10;Bretagne;Écrans;3400,75;2100,10
2025-03-05;Occitanie;Ordinateurs;15800,00;9900,00
2025-04-12;Île-de-France;Claviers;900,20;450,00
2025-05-20;Bretagne;Ordinateurs;14100,40;9000,00
2025-06-08;Occitanie;Écrans;4100,00;2500,00
2025-07-18;Île-de-France;Ordinateurs;16250,90;10100,00
2025-08-22;Bretagne;Claviers;1200,00;600,00
2025-09-30;Occitanie;Ordinateurs;13900,00;8800,00
2025-10-14;Île-de-France;Écrans;5200,00;3100,00
2025-11-03;Bretagne;Ordinateurs;17500,00;11000,00
2025-12-31;Occitanie;Claviers;1500,00;700,00
"""
SALES_CSV = "date,region,revenue,cost\n" + "".join(
    f"2025-{m:02d}-15,{r},{1000 + 37 * m * (k + 1)}.5,{600 + 11 * m}\n"
    for m in range(1, 13)
    for k, r in enumerate("NSW")
)
FRENCH_PROMPT = "Rapport trimestriel du chiffre d'affaires par région pour la direction"
# "106 197,75" as pdftotext gives it: a thousands separator that is a space of some width, a decimal comma
FRENCH_NUMBER = re.compile(r"\b\d{1,3}(?:[\s\u202f\u00a0]\d{3})+,\d{2}\b")


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


# -- detection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("expected", "prompt"), SAMPLES, ids=[f"{w}:{p[:40]}" for w, p in SAMPLES])
def test_the_prompts_language_is_detected(expected, prompt):
    assert i18n.detect(prompt) == expected


def test_a_confident_prompt_wins_over_the_datas_language():
    french_columns = ["Région", "Trimestre", "Chiffre d'affaires", "Produit", "Coût des ventes"]
    assert i18n.detect("Quarterly revenue report by region for the board", french_columns) == "en"
    assert i18n.detect("Q3 2025 KPIs", french_columns) == "fr"  # the prompt says too little: the data decides


def test_english_column_names_never_switch_an_unclear_prompt_away_from_english():
    columns = ["order_date", "region", "product", "units", "unit_price", "revenue", "cost"]
    assert i18n.detect("Q4", columns) == "en"


# -- phrase tables -----------------------------------------------------------------------------


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("code", [c for c in i18n.supported() if c != i18n.REFERENCE])
def test_every_language_has_every_english_phrase_with_the_same_placeholders(code):
    tables = i18n._tables()
    english, own = tables[i18n.REFERENCE], tables[code]
    assert own["language"]["name"]
    for section in ("document", "planner"):
        assert set(own[section]) == set(english[section]), (section, set(english[section]) ^ set(own[section]))
        for key, text in english[section].items():
            mine, theirs = _placeholders(own[section][key]), _placeholders(text)
            # Where its grammar makes the period word agree ("dernière semaine" / "dernier mois"), a language
            # may say "period" and leave {bucket} out; it never adds one English does not fill in.
            assert mine <= theirs and theirs - mine <= {"bucket"}, (section, key, mine, theirs)


def test_supported_languages_with_their_own_names():
    assert i18n.supported() == {
        "en": "English",
        "de": "Deutsch",
        "es": "Español",
        "fr": "Français",
        "ja": "日本語",
        "pt": "Português",
        "zh": "中文",
    }


def test_an_unknown_language_falls_back_to_english():
    assert i18n.phrases("it", "planner") == i18n.phrases("en", "planner")
    assert i18n.phrase("xx-YY", "contents") == "Contents"
    assert i18n.phrase("fr-CA", "contents") == "Sommaire"  # a region of a language docagent writes


def test_an_explicit_unsupported_language_is_refused_with_the_supported_list():
    with pytest.raises(UnsupportedLanguage) as e:
        i18n.check_language("it")
    assert "'it'" in str(e.value) and "fr (Français)" in str(e.value) and e.value.code == "unsupported_language"
    assert i18n.check_language("pt-BR") == "pt-BR"  # kept as given: the documents carry the region
    assert i18n.check_language(None) is None


# -- numbers and dates -------------------------------------------------------------------------

MARCH = dt.date(2026, 3, 5)


@pytest.mark.parametrize(
    ("language", "number", "money", "percent", "month", "quarter"),
    [
        ("en", "1,234.50", "-€1,234.50", "12.5%", "Mar 2026", "2026 Q1"),  # docagent's own forms, unchanged
        ("fr", f"1{NNBSP}234,50", f"-1{NNBSP}234,50{NBSP}€", f"12,5{NBSP}%", "mars 2026", "T1 2026"),
        ("de", "1.234,50", f"-1.234,50{NBSP}€", f"12,5{NBSP}%", "März 2026", "Q1 2026"),
        ("es", "1.234,50", f"-1.234,50{NBSP}€", f"12,5{NBSP}%", "mar 2026", "T1 2026"),
        ("pt", "1.234,50", f"-€{NBSP}1.234,50", "12,5%", "mar. de 2026", "T1 de 2026"),
        ("zh", "1,234.50", "-€1,234.50", "12.5%", "2026年3月", "2026年第1季度"),
        ("ja", "1,234.50", "-€1,234.50", "12.5%", "2026年3月", "2026/Q1"),
    ],
)
def test_numbers_and_dates_follow_the_language(language, number, money, percent, month, quarter):
    assert format_value(1234.5, language=language) == number
    assert format_value(-1234.5, "currency", "EUR", language=language) == money
    assert format_value(0.125, "percent", language=language) == percent
    assert format_value(MARCH, bucket="month", language=language) == month
    assert format_value(MARCH, bucket="quarter", language=language) == quarter


def test_short_figures_follow_the_language():
    assert short(2_134_567, "currency", "EUR", "en") == "€2.13M"
    assert short(2_134_567, "currency", "EUR", "fr") == f"2,13{NBSP}M{NBSP}€"
    assert short(21_345, "number", "EUR", "de") == "21.345"  # German has no short word for thousands
    assert short(213_456_789, "number", "EUR", "de") == f"213{NBSP}Mio."
    assert short(0.125, "percent", "EUR", "fr") == f"12{NBSP}%"
    assert short(2_134_567, "number", "CNY", "ja") == "213万"


def test_yes_and_no_in_the_language():
    assert [format_value(True, language=c) for c in ("en", "fr", "de")] == ["Yes", "Oui", "Ja"]


# -- reports -----------------------------------------------------------------------------------


@needs_poppler
def test_a_french_prompt_and_a_french_file_make_a_french_report(tmp_path):
    data = tmp_path / "ventes.csv"
    data.write_text(FRENCH_CSV, encoding="utf-8")
    outcome = generate([data], FRENCH_PROMPT, ["pdf", "docx"], tmp_path / "out", "rules")
    assert outcome.planned.plan.meta.language == "fr" and outcome.warnings == []
    text = pdf_text(outcome.files["pdf"])
    for words in ("Synthèse", "Évolution dans le temps", "Tableau 1", "Figure 1"):  # 3 pages: no contents
        assert words in text, words
    assert re.search(r"Source\s:\sventes\.csv", text)
    assert FRENCH_NUMBER.search(text), "no 1 234,56-style number"
    assert re.search(r"\bT[1-4] 2025\b", text) and re.search(r"\d,\d\s?%", text)


def test_an_unsupported_language_exits_2_listing_the_supported_ones(tmp_path):
    data = tmp_path / "ventes.csv"
    data.write_text(FRENCH_CSV, encoding="utf-8")
    exe = str(Path(sys.executable).with_name("docagent"))
    r = subprocess.run(
        [exe, "generate", str(data), "-p", "x", "--language", "it", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "does not write 'it'" in r.stderr and "de (Deutsch)" in r.stderr
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


@needs_poppler
@pytest.mark.parametrize("code", list(i18n.supported()))
def test_the_rules_planners_report_reads_in_each_language(code, tmp_path):
    if i18n.cjk(code) and find_fonts().cjk is None:
        pytest.skip("no CJK font installed (fonts-wqy-zenhei)")
    data = tmp_path / "sales.csv"
    data.write_text(SALES_CSV, encoding="utf-8")
    outcome = generate([data], "x", ["pdf"], tmp_path / "out", "rules", language=code)
    assert outcome.warnings == []
    text = pdf_text(outcome.files["pdf"])
    planner = i18n.phrases(code, "planner")
    for heading in (planner["summary"], planner["trend"], planner["appendix"]):  # 3 pages: no contents list
        assert heading.replace(NBSP, " ") in text, heading  # pdftotext writes a no-break space as a space


def test_an_abbreviated_figure_at_the_end_of_a_sentence_keeps_one_full_stop():
    from docagent.engine.formatting import fill

    shown = format_value(4_700_000, "compact", language="de")
    assert shown.endswith("Mio.")
    assert fill("Der Umsatz erreicht {rev}.", {"rev": shown}) == f"Der Umsatz erreicht {shown}"
