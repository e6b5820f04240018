"""Ten data sets shaped like the public ones analysts ask about, generated (never copied), with a request each.

weather, stock prices, life expectancy, tips, employment, electricity generation, French sales,
Chinese sales, nested orders (JSON) and a German headcount workbook.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import random
from collections.abc import Callable
from pathlib import Path

import openpyxl


def _csv(path: Path, header: list[str], rows: list[list[object]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def _months(start: dt.date, n: int) -> list[dt.date]:
    return [dt.date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1) for i in range(n)]


def weather(folder: Path) -> Path:
    r = random.Random(1)
    rows = []
    for i in range(730):
        d = dt.date(2012, 1, 1) + dt.timedelta(days=i)
        season = math.sin((d.timetuple().tm_yday - 100) / 365 * 2 * math.pi)
        t_max = round(14 + 10 * season + r.uniform(-3, 3), 1)
        rain = round(max(0.0, r.gauss(2, 4)), 1)
        rows.append([d.isoformat(), rain, t_max, round(t_max - r.uniform(5, 10), 1), round(r.uniform(1, 7), 1),
                     "rain" if rain > 2 else r.choice(["sun", "fog", "drizzle"])])  # fmt: skip
    return _csv(
        folder / "seattle-weather.csv", ["date", "precipitation", "temp_max", "temp_min", "wind", "weather"], rows
    )


def stocks(folder: Path) -> Path:
    r = random.Random(2)
    rows = []
    for symbol, start in (("MSFT", 39.8), ("AMZN", 64.6), ("IBM", 100.5), ("AAPL", 25.9)):
        price = start
        for d in _months(dt.date(2000, 1, 1), 123):
            price = max(5.0, price * (1 + r.gauss(0.005, 0.07)))
            rows.append([symbol, f"{d:%b} {d.day} {d.year}", round(price, 2)])
    return _csv(folder / "stocks.csv", ["symbol", "date", "price"], rows)


def life_expectancy(folder: Path) -> Path:
    r = random.Random(3)
    rows = []
    for continent, base, n in (
        ("Africa", 40, 8),
        ("Americas", 55, 6),
        ("Asia", 48, 7),
        ("Europe", 65, 6),
        ("Oceania", 69, 2),
    ):
        for k in range(n):
            pop = r.randint(1, 80) * 1_000_000
            for j, year in enumerate(range(1952, 2008, 5)):
                life = base + j * r.uniform(0.8, 1.6) + r.uniform(-2, 2)
                rows.append([f"{continent[:3]}land {k}", continent, year, round(life, 3), int(pop * 1.02**(j * 5)),
                             round(r.uniform(500, 30000), 1)])  # fmt: skip
    return _csv(folder / "gapminder.csv", ["country", "continent", "year", "lifeExp", "pop", "gdpPercap"], rows)


def tips(folder: Path) -> Path:
    r = random.Random(4)
    rows = []
    for _ in range(244):
        bill = round(r.uniform(3, 50), 2)
        rows.append([bill, round(bill * r.uniform(0.1, 0.2), 2), r.choice(["Female", "Male"]), r.choice(["No", "Yes"]),
                     r.choice(["Thur", "Fri", "Sat", "Sun"]), r.choice(["Lunch", "Dinner"]), r.randint(1, 6)])  # fmt: skip
    return _csv(folder / "tips.csv", ["total_bill", "tip", "sex", "smoker", "day", "time", "size"], rows)


EMPLOYMENT_LEVELS = {"Manufacturing": 12300, "Retail trade": 15500, "Health care": 16800, "Construction": 7600}


def employment(folder: Path) -> Path:
    r = random.Random(5)
    rows = []
    for industry, level in EMPLOYMENT_LEVELS.items():
        for d in _months(dt.date(2019, 1, 1), 60):
            level = round(level * (1 + r.gauss(0.001, 0.004)), 1)
            rows.append([d.isoformat(), industry, level])
    return _csv(folder / "employment.csv", ["date", "industry", "employment"], rows)


def electricity(folder: Path) -> Path:
    r = random.Random(6)
    rows = []
    for year in range(2001, 2018):
        for source, gen in (("Coal", 35000), ("Wind", 2000 + (year - 2001) * 1800), ("Nuclear", 4500), ("Gas", 2500)):
            rows.append([f"{year}-01-01", source, round(gen * r.uniform(0.9, 1.1))])
    return _csv(folder / "iowa-electricity.csv", ["year", "source", "net_generation"], rows)


def french_sales(folder: Path) -> Path:
    r = random.Random(7)
    rows = []
    for d in (dt.date(2023, 1, 2) + dt.timedelta(days=3 * i) for i in range(243)):
        for region in ("Nord", "Sud", "Est", "Ouest"):
            ca = round(r.uniform(800, 3000), 2)
            cout = round(ca * r.uniform(0.55, 0.8), 2)
            rows.append([d.strftime("%d/%m/%Y"), region, r.choice(["Café", "Thé", "Chocolat"]),
                         f"{ca:.2f}".replace(".", ","), f"{cout:.2f}".replace(".", ","),
                         f"{(ca - cout) / ca * 100:.1f}".replace(".", ",")])  # fmt: skip
    return _csv(folder / "ventes_2023_2024.csv", ["Date", "Région", "Produit", "CA", "Coût", "Marge %"], rows, ";")


def chinese_sales(folder: Path) -> Path:
    r = random.Random(8)
    rows = []
    for d in _months(dt.date(2023, 1, 1), 24):
        for store, margin in (("北京店", 0.32), ("上海店", 0.28), ("广州店", 0.15), ("深圳店", 0.22), ("成都店", 0.18)):
            for cat in ("饮料", "零食", "日用品"):
                sales = round(r.uniform(20000, 90000))
                rows.append([d.isoformat(), store, cat, sales, round(sales * (1 - margin + r.uniform(-0.03, 0.03)))])
    return _csv(folder / "门店销售.csv", ["日期", "门店", "品类", "销售额", "成本"], rows)


def nested_orders(folder: Path) -> Path:
    """Orders from 2024-01-01 to 2024-06-16: the latest month has 16 days."""
    r = random.Random(9)
    orders = []
    d, n = dt.date(2024, 1, 1), 0
    while d <= dt.date(2024, 6, 16):
        for _ in range(3):
            n += 1
            orders.append({"order_id": 10000 + n, "date": d.isoformat(),
                           "Customer": {"name": f"Customer {r.randint(1, 40)}", "country": r.choice(["France", "Germany", "Spain", "Italy", "Portugal"])},
                           "amount": round(r.uniform(20, 400), 2), "items": [{"sku": "A1", "qty": r.randint(1, 5)}]})  # fmt: skip
        d += dt.timedelta(days=1)
    path = folder / "orders.json"
    path.write_text(json.dumps(orders), encoding="utf-8")
    return path


SITES = {"Berlin": 160, "München": 130, "Hamburg": 90}


def headcount_workbook(folder: Path) -> Path:
    """Monthly headcount per site (a level) with joiners, leavers and sick days (flows), and a budget sheet."""
    r = random.Random(10)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Personal"
    ws.append(["Monat", "Standort", "Mitarbeiter", "Eintritte", "Austritte", "Krankheitstage"])
    level = dict(SITES)
    for d in _months(dt.date(2023, 1, 1), 24):
        for site in SITES:
            joiners, leavers = r.randint(0, 6), r.randint(0, 5)
            level[site] += joiners - leavers
            ws.append([d, site, level[site], joiners, leavers, r.randint(20, 90)])
    budget = wb.create_sheet("Budget")
    budget.append(["Kostenstelle", "Q1", "Q2", "Q3", "Q4"])
    for cc in ("Personal", "IT", "Vertrieb"):
        budget.append([cc, *(r.randint(100, 300) * 1000 for _ in range(4))])
    path = folder / "budget_multisheet.xlsx"
    wb.save(path)
    return path


# name -> (maker, request, language)
DATASETS: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    "weather": (weather, "Weather summary for Seattle: temperatures and rainfall by month", "en"),
    "stocks": (stocks, "Stock price report by symbol", "en"),
    "life expectancy": (life_expectancy, "Life expectancy by continent over time", "en"),
    "tips": (tips, "Tipping report: tips by day and party size", "en"),
    "employment": (employment, "Monthly employment report by industry", "en"),
    "electricity": (electricity, "Iowa electricity generation by source, yearly", "en"),
    "french sales": (french_sales, "Rapport trimestriel des ventes par région, avec la marge", "fr"),
    "chinese sales": (chinese_sales, "请写一份报告：各门店同比增长、品类占比，以及毛利率低于20%的门店", "zh"),
    "orders": (nested_orders, "Monthly orders report by customer country", "en"),
    "headcount": (
        headcount_workbook,
        "Vierteljährlicher Personalbericht: Mitarbeiterzahl, Fluktuation und Krankheitstage nach Standort",
        "de",
    ),
}
