"""Each column's role (how it may be aggregated) comes from its name in seven languages and its statistics."""

from __future__ import annotations

import pytest

from docagent.engine.data.catalog import Catalog
from docagent.engine.data.profile import profile
from docagent.engine.data.roles import Stats, role_of
from docagent.engine.llm.prompt import compact_profile

DECIMALS = Stats("number", 100, 0, 200, 0.5, 90.0)
WHOLE = Stats("integer", 100, 0, 200, 1, 900)


@pytest.mark.parametrize(
    ("name", "role"),
    [
        # additive: amounts, counts, quantities, generation
        ("revenue", "additive"), ("Umsatz", "additive"), ("Chiffre d'affaires", "additive"), ("ventas", "additive"),
        ("vendas", "additive"), ("销售额", "additive"), ("売上", "additive"), ("Generation (MWh)", "additive"),
        ("number of orders", "additive"), ("Krankheitstage", "additive"), ("Volume", "additive"),
        # non-additive: rates, ratios, prices, temperatures, ages, scores, life expectancy
        ("margin_pct", "average"), ("Marge", "average"), ("taux de marge", "average"), ("毛利率", "average"),
        ("temperature", "average"), ("temp_max", "average"), ("Temperatur (°C)", "average"), ("気温", "average"),
        ("Close", "average"), ("unit_price", "average"), ("preço", "average"), ("lifeExp", "average"),
        ("Espérance de vie", "average"), ("esperanza de vida", "average"), ("age", "average"), ("edad", "average"),
        ("satisfaction_score", "average"), ("gdpPercap", "average"),
        # stocks and levels
        ("headcount", "stock"), ("Mitarbeiter", "stock"), ("Employment", "stock"), ("effectifs", "stock"),
        ("plantilla", "stock"), ("estoque", "stock"), ("员工人数", "stock"), ("在庫", "stock"), ("MRR", "stock"),
        ("balance", "stock"), ("pop", "stock"), ("Inventory", "stock"),
        # identifiers and codes, even when numeric
        ("customer_id", "id"), ("order no", "id"), ("Kundennummer", "id"), ("zip", "id"), ("门店编号", "id"),
        ("numéro client", "id"), ("código postal", "id"),
    ],
)  # fmt: skip
def test_a_number_column_gets_its_role_from_its_name(name, role):
    assert role_of(name, DECIMALS) == role
    assert role_of(name, WHOLE) == role


@pytest.mark.parametrize(
    ("name", "stats", "role"),
    [
        ("year", Stats("integer", 50, 0, 500, 1952, 2007), "time"),
        ("Jahr", Stats("integer", 3, 0, 36, 2022, 2024), "time"),
        ("row", Stats("integer", 500, 0, 500, 1, 500), "id"),
        ("amount", Stats("integer", 500, 0, 500, 3, 9000), "additive"),  # every row its own whole number
        ("churned", Stats("integer", 2, 0, 500, 0, 1), "flag"),
        ("active", Stats("boolean", 2, 0, 500), "flag"),
        ("conversion", Stats("number", 80, 0, 500, 0.01, 0.93), "average"),  # fractions of one
        ("region", Stats("text", 4, 0, 500), "category"),
        ("comment", Stats("text", 480, 0, 500), "text"),
        ("day", Stats("date", 300, 0, 500, "2024-01-01", "2024-12-31"), "time"),
    ],
)
def test_statistics_decide_where_the_name_says_nothing(name, stats, role):
    assert role_of(name, stats) == role


def test_the_profile_and_the_model_prompt_show_the_same_roles_and_weights(tmp_path):
    path = tmp_path / "ventes.csv"
    path.write_text(
        "id;date;Région;CA;Marge;effectif\n"
        + "".join(
            f"{i};2024-{m:02d}-01;{r};{1000 + i};{9.5 + i % 3};{40 + m}\n"
            for i, (m, r) in enumerate((m, r) for m in range(1, 13) for r in ("Nord", "Sud"))
        ),  # fmt: skip
        encoding="utf-8",
    )
    with Catalog() as c:
        (ds,) = c.ingest(path)
        p = profile(c, ds)
    roles = {col.name: col.role for col in p.columns}
    assert roles == {
        "id": "id",
        "date": "time",
        "Région": "category",
        "CA": "additive",
        "Marge": "average",
        "effectif": "stock",
    }
    assert p.column("Marge").weight == "CA"  # type: ignore[union-attr]
    shown = {c["name"]: (c["role"], c.get("weighted_by")) for c in compact_profile(p)["columns"]}
    assert shown == {col.name: (col.role, col.weight) for col in p.columns}


def test_nested_json_kept_as_text_is_not_a_category(tmp_path):
    path = tmp_path / "orders.json"
    path.write_text(
        '[{"id": 1, "items": [{"sku": "A"}], "country": "FR", "amount": 3},'
        ' {"id": 2, "items": [{"sku": "B"}], "country": "DE", "amount": 5}]',
        encoding="utf-8",
    )
    with Catalog() as c:
        (ds,) = c.ingest(path)
        p = profile(c, ds)
    assert (p.column("items").role, p.column("country").role) == ("text", "category")  # type: ignore[union-attr]
