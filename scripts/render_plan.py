"""Render a plan JSON with its data files (no planner), print the files and any QA warnings.

python scripts/render_plan.py examples/plans/budget.json examples/budget.csv --out out/budget
"""

import argparse
import json
from pathlib import Path

from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.formatting import slug
from docagent.engine.plan import Plan
from docagent.engine.validate import validate
from docagent.renderers import render_all
from docagent.renderers.qa import check

parser = argparse.ArgumentParser()
parser.add_argument("plan", type=Path)
parser.add_argument("data", type=Path, nargs="*")
parser.add_argument("--out", type=Path, default=Path("out"))
parser.add_argument("--theme", default=None)
args = parser.parse_args()
with Catalog() as catalog:
    for path in args.data:
        catalog.ingest(path)
    plan = validate(Plan.model_validate(json.loads(args.plan.read_text(encoding="utf-8"))), catalog)
    bound = bind(plan, catalog)
args.out.mkdir(parents=True, exist_ok=True)
files, _ = render_all(
    bound, args.theme or plan.meta.theme or "corporate", args.out, slug(plan.meta.title), ["docx", "xlsx", "pdf"]
)
for path in files.values():
    print(path)
for warning in check(files, bound):
    print("warning:", warning)
