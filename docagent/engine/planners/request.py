"""What a request asks for, read without a model, in en fr de es pt zh ja.

Period words ("vierteljährlich", "trimestriel", "季度"), the measures and
dimensions it names (matched to columns through stems and a synonym table),
comparisons (growth, year on year, shares, top N, a threshold to highlight),
the kind of document, and a short title.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from docagent.engine.plan import Bucket, DocKind

# Comparisons with last year are read before period words: "year-on-year" does not ask for a yearly report.
YOY = re.compile(
    r"year[- ]?(on|over)[- ]?year|\byoy\b|a year (ago|earlier)|last year|prior year|previous year|sur un an"
    r"|glissement annuel|d'une année sur l'autre|an dernier|année précédente|vorjahr|gegenüber dem jahr"
    r"|interanual|año anterior|año contra año|ano a ano|ano anterior|homólog|同比|去年同期|上年同期|前年比|前年同期",
    re.I,
)
YTD = re.compile(
    r"\bytd\b|year[- ]to[- ]date|depuis le début de l'année|cumul annuel|seit jahresbeginn|jahr bis dato"
    r"|laufenden jahres|en lo que va del año|acumulado del año|acumulado no ano|no acumulado do ano"
    r"|年初至今|今年以来|本年累计|年初以来|年初来|年初から",
    re.I,
)
# Most specific first: "vierteljährlich" holds "jährlich", "Quartalsbericht" is quarterly.
BUCKETS = [
    (Bucket.quarter, r"quarter|quartal|viertelj|trimest|季度|季报|按季|四半期"),
    (Bucket.week, r"\bweek|weekly|hebdo|semaine|woche|wöchentl|semana|週|周报|每周|按周"),
    (Bucket.month, r"\bmonth|mensu|\bmois\b|monat|\bmes\b|mês|\bmensal|月度|月报|每月|按月|月次|月別|月間|毎月"),
    (Bucket.day, r"\bdaily\b|quotidien|täglich|\bdiari[oa]|每日|按日|日次|日別"),
    (Bucket.year, r"annual|yearly|\bannuel|jährl|jahres|\banual|年度|年报|每年|按年|年次|年間"),
]
GROWTH = re.compile(
    r"growth|grow|increase|change|trend|month[- ]over[- ]month|\bmom\b|croissance|évolution|hausse|wachstum"
    r"|veränderung|entwicklung|crecimiento|evolución|variación|crescimento|evolução|variação|增长|增速|环比|变化"
    r"|趋势|成長|増減|伸び|推移",
    re.I,
)
SHARE = re.compile(
    r"\bshare|\bmix\b|proportion|répartition|\bpart\b|parts de|anteil|verteilung|cuota|participación|proporción"
    r"|participação|proporção|占比|份额|比重|构成|構成比|シェア|割合",
    re.I,
)
TOP = re.compile(
    r"\btop[- ]?(\d{1,2})\b|(\d{1,2}) (?:premiers|plus grands|meilleurs)|(?:die|den) (\d{1,2}) (?:größten|besten|top)"
    r"|(?:los|las) (\d{1,2}) (?:principales|mayores|mejores)|(?:os|as) (\d{1,2}) (?:principais|maiores|melhores)"
    r"|前(\d{1,2})|上位(\d{1,2})",
    re.I,
)
_NUM = r"(\d+(?:[.,]\d+)?)\s*%"
BELOW = re.compile(
    r"(?:below|under|less than|lower than|<|sous|en dessous de|inférieure? à|moins de|unter|weniger als|niedriger als"
    r"|por debajo del?|menos del?|inferior al?|abaixo de|menos de|inferior a|低于|不足|小于|少于)\s*"
    + _NUM
    + r"|"
    + _NUM
    + r"\s*(?:未満|以下|を下回)",
    re.I,
)
ABOVE = re.compile(
    r"(?:above|over|more than|higher than|>|au-dessus de|supérieure? à|plus de|über|mehr als|höher als"
    r"|por encima del?|más del?|superior al?|acima de|mais de|superior a|高于|超过|大于|多于)\s*"
    + _NUM
    + r"|"
    + _NUM
    + r"\s*(?:以上|超|を上回)",
    re.I,
)
KINDS = [
    (DocKind.memo, r"\bmemo\b|note de service|notiz|memorándum|memorando|备忘录|メモ"),
    (DocKind.report, r"scorecard|tableau de bord|kennzahlen|cuadro de mando|painel|计分卡|记分卡|スコアカード"),
]
SCORECARD = re.compile(KINDS[1][1], re.I)

# Concepts a request names in its own words; each column that matches a concept's word is "named".
SYNONYMS: list[tuple[str, ...]] = [
    (
        "revenue",
        "sales",
        "ca",
        "turnover",
        "income",
        "umsatz",
        "erlös",
        "chiffre d'affaires",
        "ventes",
        "ventas",
        "ingresos",
        "facturación",
        "receita",
        "vendas",
        "faturamento",
        "销售",
        "营收",
        "收入",
        "营业额",
        "売上",
        "収益",
    ),
    (
        "cost",
        "expense",
        "cogs",
        "coût",
        "charges",
        "kosten",
        "aufwand",
        "costo",
        "coste",
        "gastos",
        "custo",
        "despesa",
        "成本",
        "费用",
        "原価",
        "費用",
        "コスト",
    ),
    (
        "margin",
        "profit",
        "marge",
        "bénéfice",
        "gewinn",
        "margen",
        "beneficio",
        "margem",
        "lucro",
        "毛利",
        "利润",
        "利益",
        "粗利",
    ),
    (
        "headcount",
        "employees",
        "staff",
        "fte",
        "workforce",
        "effectif",
        "salariés",
        "mitarbeiter",
        "belegschaft",
        "personalbestand",
        "kopfzahl",
        "plantilla",
        "empleados",
        "funcionários",
        "efetivo",
        "人数",
        "员工",
        "人员",
        "従業員",
        "社員",
        "人員",
    ),
    (
        "attrition",
        "leavers",
        "fluktuation",
        "austritt",
        "kündigung",
        "départs",
        "rotation",
        "bajas",
        "rotación",
        "desligamento",
        "rotatividade",
        "离职",
        "流失",
        "離職",
        "退職",
    ),
    (
        "hires",
        "joiners",
        "eintritt",
        "einstellung",
        "embauche",
        "entrées",
        "altas",
        "contratacion",
        "admissão",
        "contratação",
        "入职",
        "招聘",
        "入社",
        "採用",
    ),
    (
        "sick",
        "absence",
        "krank",
        "fehltag",
        "maladie",
        "absentéisme",
        "ausencia",
        "enfermedad",
        "falta",
        "afastamento",
        "doença",
        "病假",
        "缺勤",
        "病欠",
        "欠勤",
    ),
    (
        "quantity",
        "qty",
        "units",
        "volume",
        "quantité",
        "menge",
        "stück",
        "cantidad",
        "unidades",
        "quantidade",
        "数量",
        "销量",
        "件数",
        "個数",
    ),
    ("price", "prix", "preis", "precio", "preço", "价格", "单价", "価格", "単価"),
    (
        "store",
        "shop",
        "branch",
        "site",
        "location",
        "magasin",
        "boutique",
        "filiale",
        "standort",
        "geschäft",
        "tienda",
        "sucursal",
        "sede",
        "loja",
        "门店",
        "店铺",
        "店舗",
        "拠点",
    ),
    (
        "category",
        "product line",
        "catégorie",
        "famille",
        "kategorie",
        "warengruppe",
        "categoría",
        "categoria",
        "品类",
        "类别",
        "类目",
        "分类",
        "カテゴリ",
        "区分",
    ),
    ("region", "région", "región", "região", "地区", "区域", "大区", "地域", "エリア"),
    ("customer", "client", "kunde", "cliente", "客户", "顾客", "顧客"),
    ("department", "team", "département", "abteilung", "departamento", "部门", "部署"),
    ("country", "pays", "land", "país", "国家", "国"),
    ("temperature", "temp", "température", "temperatur", "temperatura", "温度", "气温", "気温"),
    (
        "precipitation",
        "rain",
        "précipitation",
        "pluie",
        "niederschlag",
        "regen",
        "precipitación",
        "lluvia",
        "precipitação",
        "chuva",
        "降水",
        "降雨",
        "降水量",
    ),
    (
        "generation",
        "production",
        "output",
        "erzeugung",
        "génération",
        "generación",
        "producción",
        "geração",
        "produção",
        "发电",
        "発電",
    ),
    (
        "life expectancy",
        "lifeexp",
        "espérance de vie",
        "lebenserwartung",
        "esperanza de vida",
        "expectativa de vida",
        "预期寿命",
        "寿命",
    ),
    ("employment", "jobs", "emploi", "beschäftigung", "erwerbstätig", "empleo", "emprego", "就业", "雇用"),
    ("tip", "pourboire", "trinkgeld", "propina", "gorjeta", "小费", "チップ"),
    ("close", "closing", "clôture", "schluss", "cierre", "fechamento", "收盘", "終値"),
]


def _fold(text: str) -> str:
    """Lower case, camelCase and snake_case split, accents kept (they tell words apart in fr/de/es/pt)."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", unicodedata.normalize("NFC", text))
    return " ".join(re.sub(r"[_\-./()\[\]:]+", " ", text).split()).lower()


def _cjk(text: str) -> bool:
    return any(ord(ch) >= 0x3000 for ch in text)


def _has(text: str, word: str) -> bool:
    """`word` in `text`: CJK anywhere, Latin at a word start (stems and German compounds: 'umsatzbericht')."""
    if _cjk(word):
        return word in text
    if len(word) <= 3:  # short words whole: "day" is not "daily", "pop" not "popular"
        return re.search(r"(?<![^\W\d_])" + re.escape(word) + r"s?(?![^\W\d_])", text) is not None
    return re.search(r"(?<![^\W\d_])" + re.escape(word), text) is not None or (len(word) >= 5 and word in text)


def _stems(name: str) -> list[str]:
    """The words of a column name worth looking for in a request: 'Krankheitstage' -> 'krankheitstage', 'krankh'."""
    out = []
    for w in _fold(name).split():
        if _cjk(w):
            out += [w] if len(w) >= 2 else []
        elif len(w) >= 3:
            out.append(w[: max(4, len(w) - 2)] if len(w) > 5 else w)
    return out


def names_in(prompt: str, columns: list[str]) -> list[str]:
    """Columns the request names, in the order it names them, by stem or by a shared concept."""
    text = _fold(prompt)
    found: list[tuple[int, str]] = []
    for col in columns:
        folded = _fold(col)
        hits = [text.find(s) for s in _stems(col) if _has(text, s)]
        for group in SYNONYMS:
            if any(_has(folded, w) for w in group):
                hits += [text.find(w) for w in group if _has(text, w)]
        hits = [h for h in hits if h >= 0]
        if hits:
            found.append((min(hits), col))
    return [c for _, c in sorted(found)]


BY = r"(?:\bby|\bper|\bnach|\bje|\bpar|\bpor|\bpour|按|分|別)"


def grouped_by(prompt: str, column: str) -> bool:
    """Whether the request groups by this column ("tips by day and party size"), rather than naming a measure."""
    text = _fold(prompt)
    near = BY + r"\W+(?:[^\W\d_]+\W+){0,3}?"
    return any(re.search(near + re.escape(stem), text) for stem in _stems(column))


@dataclass
class Ask:
    """What the request asks for; `unmet` collects what the planner could not do, for the document's notes."""

    bucket: Bucket | None = None
    ytd: bool = False
    yoy: bool = False
    growth: bool = False
    share: bool = False
    top: int | None = None
    below: float | None = None  # a percentage threshold, as a fraction: "below 20%" -> 0.2
    above: float | None = None
    kind: DocKind = DocKind.report
    scorecard: bool = False
    unmet: list[str] = field(default_factory=list)


def read(prompt: str) -> Ask:
    ask = Ask()
    ask.yoy = bool(YOY.search(prompt))
    rest = YOY.sub(" ", prompt)
    ask.ytd = bool(YTD.search(rest))
    rest = YTD.sub(" ", rest)
    ask.bucket = next((b for b, pattern in BUCKETS if re.search(pattern, rest, re.I)), None)
    ask.growth = bool(GROWTH.search(prompt))
    ask.share = bool(SHARE.search(prompt))
    top = TOP.search(prompt)
    ask.top = int(next(g for g in top.groups() if g)) if top else None
    for attr, pattern in (("below", BELOW), ("above", ABOVE)):
        m = pattern.search(prompt)
        if m:
            setattr(ask, attr, float(next(g for g in m.groups() if g).replace(",", ".")) / 100)
    ask.kind = next((k for k, pattern in KINDS if re.search(pattern, prompt, re.I)), DocKind.report)
    ask.scorecard = bool(SCORECARD.search(prompt))
    return ask


# Request verbs and politeness before the subject: "Please write a quarterly report" -> "Quarterly report".
LEAD = re.compile(
    r"^(?:please\s+|pls\s+|could you\s+|can you\s+)?(?:write|create|make|generate|build|produce|prepare|draft|give me"
    r"|show me)\s+(?:me\s+|us\s+)?(?:an?\s+|the\s+)?"
    r"|^(?:merci de\s+|veuillez\s+)?(?:rédige[rz]?|écri[rstv]\w*|prépare[rz]?|crée[rz]?|fais|faites|générer?)\s+"
    r"(?:moi\s+|nous\s+)?(?:une?\s+|le\s+|la\s+|l')?"
    r"|^(?:bitte\s+)?(?:erstelle[n]?|schreibe[n]?|mache[n]?|generiere[n]?)\s+(?:mir\s+|uns\s+)?(?:bitte\s+)?"
    r"(?:eine[nm]?\s+|den\s+|die\s+|das\s+)?"
    r"|^(?:por favor,?\s+)?(?:escrib[ea]\w*|cre[ae]\w*|prepar[ae]\w*|genera\w*|haz|faça|faz|elabor[ae]\w*)\s+"
    r"(?:me\s+)?(?:una?\s+|el\s+|la\s+|um\s+|uma\s+|o\s+|a\s+)?"
    r"|^(?:请|麻烦)?(?:帮我|给我|为我)?(?:根据[^，,。]{0,20}?[，,]?)?(?:写|生成|制作|做|出|准备|撰写)(?:一份|一个|一篇)?",
    re.I,
)
TRAIL = re.compile(r"(?:を|の)?(?:作成|作って|書いて|まとめて)(?:して)?(?:ください|下さい)?$|(?:吧|。)$")
# Clauses that say what the document should contain, not what it is: cut them from the title.
CLAUSE = re.compile(
    r"\s+(?:with|including|covering|showing|that shows|which|for the board|mit|inklusive|einschließlich|avec|incluant"
    r"|comprenant|con|incluyendo|com|incluindo)\s+.*$|[,;:，；：、(（].*$"
    r"|(?:包括|包含|含有|其中|要求|需要).*$",
    re.I,
)
TITLE_MAX = 60


def short_title(prompt: str) -> str | None:
    """A title a person would write, from the request's first sentence; None when nothing short is left."""
    first = re.split(r"(?<=[.!?。！？])\s*|\n", prompt.strip(), maxsplit=1)[0].strip(" .。!！")
    first = TRAIL.sub("", LEAD.sub("", first, count=1)).strip()
    if not _cjk(first):
        first = CLAUSE.sub("", first).strip(" .。")
    elif re.search(r"[、，,]", first):  # a list of what to cover is not a title
        return None
    first = re.sub(r"^(?:(?:an?|the)\s+)", "", first, flags=re.I)
    if not first or len(first) > TITLE_MAX or (_cjk(first) and len(first) > 30):
        return None
    return first[0].upper() + first[1:]


__all__ = ["Ask", "grouped_by", "names_in", "read", "short_title"]
