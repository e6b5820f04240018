"""What each column is for, from its name (en fr de es pt zh ja) and its statistics.

A role decides how a column may be aggregated, and the profile carries it so a
model sees the same roles the rules planner uses:

- `additive`: amounts, counts, quantities, generation: summed.
- `average`: rates, ratios, percentages, prices, temperatures, ages, scores:
  averaged (weighted by `weight` where a weight column is evident), never summed.
- `stock`: levels such as headcount, balances, inventory, population, MRR: the
  value at one time, summed across categories at that time, never across time.
- `id`: identifiers and codes, never aggregated even when numeric.
- `flag`: yes/no columns (booleans, 0/1): counted or shown as a share.
- `time`: dates, and whole-number year columns.
- `category`: text with a handful of values; `text`: anything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMERIC = ("integer", "number")
TEMPORAL = ("date", "datetime")

ROLES = ("additive", "average", "stock", "id", "flag", "time", "category", "text")


def _words(*parts: str) -> re.Pattern[str]:
    """Latin stems match at a word start (case-insensitive, '_' and camelCase split); CJK anywhere."""
    return re.compile("|".join(parts), re.I)


# Latin stems are anchored at a word start by `_split` below, so "rate" does not match "generated".
ID = _words(
    r"\b(id|ids|code|codes|zip|postcode|postal|plz|cep|phone|tel|sku|ean|isbn|iban|uuid|guid|key|ref|fips|iso\d?"
    r"|matricule|siren|siret|cpf|cnpj|nif|dni|codigo|código|kennung|latitude|longitude|lat|lon|lng)\b",
    # "order no", "Kundennummer", "numéro client": a number that names a row, not a count of things
    r"\b(no|nr|num|number|numero|numéro|número)$|^(numéro|numero|número|n°|no\.?) |nummer\b",
    r"编号|编码|代码|号码|单号|邮编|番号|コード|ＩＤ|識別|郵便",
)
# Rates, ratios, prices and other intensive quantities: adding two of them means nothing.
AVERAGE = _words(
    r"\b(rate|rates|ratio|pct|percent|percentage|margin|share|yield|score|rating|grade|avg|average|mean|median"
    r"|index|price|prices|unit price|cost per|per capita|percap|temp|temperature|tmax|tmin|tavg|humidity|pressure"
    r"|wind|speed|age|ages|expectancy|lifeexp|life exp|density|open|high|low|close|adj close|bmi|weight kg"
    r"|taux|ratio|marge|part|prix|température|temperature|âge|age|espérance|esperance|moyenne|moyen|note|indice"
    r"|pourcentage|rendement|quote|anteil|marge|preis|preise|kurs|temperatur|alter|lebenserwartung"
    r"|durchschnitt|zins|zinssatz|prozent|quote|tasa|margen|cuota|precio|temperatura|edad|esperanza|promedio"
    r"|media|porcentaje|índice|rendimiento|taxa|margem|preço|preco|idade|expectativa|média|percentual"
    r"|participação|nota)\b",
    r"%|率|比例|占比|比重|价格|单价|均价|温度|气温|年龄|寿命|平均|指数|评分|得分|割合|価格|単価|気温|年齢|スコア|評価|利回り",
)
# Levels read at one time: headcount, balances, inventory, population, recurring revenue.
STOCK = _words(
    r"\b(headcount|head count|headcounts|employee|employees|employment|employed|staff|staffing|fte|ftes|workforce"
    r"|balance|balances|inventory|on hand|stock level|stock on hand|population|pop|mrr|arr|subscribers"
    r"|active users|active customers|members|backlog|outstanding|cash balance|open positions|level|levels"
    r"|effectif|effectifs|solde|soldes|inventaire|emploi|salariés|salaries|trésorerie|encours|abonnés"
    r"|mitarbeiter|mitarbeiterzahl|mitarbeitende|personalbestand|bestand|lagerbestand|beschäftigte"
    r"|beschäftigung|kopfzahl|saldo|kontostand|bevölkerung|einwohner|plantilla|empleados|empleo|existencias"
    r"|inventario|población|suscriptores|efetivo|funcionários|funcionarios|emprego|estoque|inventário"
    r"|população|assinantes)\b",
    r"人数|员工数|在职|编制|余额|库存|人口|就业|従業員数|社員数|在籍|残高|在庫|雇用",
)
# Names that say "added up" even when an average word is near: "price_total", "sales amount".
ADDITIVE = _words(
    r"^ca$|\b(total|sum|amount|revenue|sales|turnover|quantity|qty|units|count|volume|generation|spend|cost|costs"
    r"|montant|chiffre|ventes|quantité|betrag|umsatz|menge|anzahl|importe|ventas|cantidad|valor|vendas"
    r"|quantidade)\b",
    r"金额|销售额|销量|数量|收入|营收|合计|总计|金額|売上|件数",
)
YEAR = _words(r"^(year|yr|année|annee|jahr|año|ano|anio|fiscal year|fy|年|年度|年份)$")
# A weight that makes an average fair: margins by revenue, prices by quantity, per-person figures by population.
WEIGHTS = [
    (
        _words(
            r"\b(margin|marge|margen|margem|markup|discount|remise|rabatt|descuento|desconto)\b",
            r"毛利|利润率|折扣|利益率",
        ),
        _words(
            r"\b(revenue|sales|turnover|chiffre|ca|ventes|umsatz|ventas|ingresos|receita|vendas)\b",
            r"收入|营收|销售额|売上",
        ),
    ),
    (
        _words(r"\b(price|unit price|prix|preis|precio|preço|preco)\b", r"单价|价格|単価|価格"),
        _words(r"\b(quantity|qty|units|quantité|menge|anzahl|cantidad|quantidade)\b", r"数量|销量"),
    ),
    (
        _words(
            r"\b(life expectancy|life exp|lifeexp|expectancy|per capita|percap|espérance|lebenserwartung|esperanza"
            r"|expectativa)\b",
            r"寿命|人均|一人当たり",
        ),
        _words(r"\b(population|pop|bevölkerung|einwohner|población|população)\b", r"人口"),
    ),
]


def _split(name: str) -> str:
    """'lifeExp' -> 'life exp', 'total_bill' -> 'total bill': word starts the stems can anchor on."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    return " ".join(re.sub(r"[_\-./()\[\]]+", " ", text).split()).lower()


@dataclass(frozen=True)
class Stats:
    type: str
    distinct: int
    nulls: int
    rows: int
    min: object = None
    max: object = None


def _is_year(name: str, s: Stats) -> bool:
    if s.type != "integer" or not isinstance(s.min, int) or not isinstance(s.max, int):
        return False
    return bool(YEAR.search(_split(name))) and 1800 <= s.min <= s.max <= 2200


def _sequence(s: Stats) -> bool:
    if s.type != "integer" or not isinstance(s.min, int) or not isinstance(s.max, int):
        return False
    return s.distinct == s.rows > 20 and s.max - s.min + 1 == s.distinct


def role_of(name: str, s: Stats) -> str:
    """The column's role (one of ROLES), from its name first and its statistics second."""
    words = _split(name)
    if s.type in TEMPORAL or _is_year(name, s):
        return "time"
    if s.type == "boolean":
        return "flag"
    if s.type in NUMERIC:
        if ID.search(words) and not ADDITIVE.search(words):
            return "id"
        if _sequence(s) and not ADDITIVE.search(words):
            return "id"  # 1, 2, 3 … one per row: a row number or key, not a quantity
        if s.type == "integer" and s.distinct <= 2 and s.min == 0 and s.max == 1:
            return "flag"
        if STOCK.search(words):
            return "stock"
        if AVERAGE.search(words) and not re.search(r"\b(total|sum|amount|montant|betrag|importe)\b", words):
            return "average"
        if ADDITIVE.search(words):
            return "additive"
        fractions = isinstance(s.min, int | float) and isinstance(s.max, int | float) and 0 <= s.min <= s.max <= 1
        if s.type == "number" and fractions and s.distinct > 2:
            return "average"  # fractions of one: ratios or probabilities
        return "additive"
    if s.distinct <= 1:
        return "text"
    if ID.search(words) or (s.distinct == s.rows - s.nulls and s.rows > 50):
        return "id"
    return "category" if s.distinct <= max(50, s.rows // 20) else "text"


def weight_of(name: str, role: str, others: list[tuple[str, str]]) -> str | None:
    """The column an average is fairly weighted by, where evident (a margin by revenue); else None."""
    if role != "average":
        return None
    words = _split(name)
    for rate, base in WEIGHTS:
        if rate.search(words):
            for other, other_role in others:
                if other != name and other_role in ("additive", "stock") and base.search(_split(other)):
                    return other
    return None


__all__ = ["ROLES", "Stats", "role_of", "weight_of"]
