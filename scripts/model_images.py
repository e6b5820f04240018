"""Render examples/plans/coffee_shop.json and refresh its page images in docs/ (needs LibreOffice and poppler).

python scripts/model_images.py
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

from docagent.engine.bind import bind
from docagent.engine.plan import Plan
from docagent.engine.validate import validate
from docagent.renderers import render_all

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "examples" / "plans" / "coffee_shop.json"
DOCS = ROOT / "docs"


def page(pdf: Path, number: int, dpi: int, out: Path) -> None:
    """One page as PNG, cut below the last block of content (the footer goes)."""
    stem = out.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-f", str(number), "-l", str(number), "-singlefile", str(pdf), str(stem)],
        check=True,
    )
    im = Image.open(out).convert("RGB")
    ink = ImageOps.invert(im).convert("L").point(lambda v: 255 if v > 10 else 0)
    rows = [y for y in range(im.height) if ink.crop((0, y, im.width, y + 1)).getbbox()]
    end = rows[0]
    for y in rows:
        if y - end > im.height // 6:  # the gap before the page footer
            break
        end = y
    im.crop((0, 0, im.width, min(im.height, end + 24))).save(out, optimize=True)


def main() -> None:
    plan = Plan.model_validate(json.loads(PLAN.read_text()))
    bound = bind(validate(plan, catalog=None), catalog=None)  # type: ignore[arg-type]  # a model needs no data
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        files, _ = render_all(bound, "corporate", out, "coffee_shop", ["xlsx", "pdf"])
        profile = (out / "lo").as_uri()
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation={profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out / "xl"),
                str(files["xlsx"]),
            ],
            check=True,
            capture_output=True,
        )
        page(out / "xl" / "coffee_shop.pdf", 1, 80, DOCS / "model-xlsx-summary.png")
        page(out / "xl" / "coffee_shop.pdf", 4, 90, DOCS / "model-xlsx-pl.png")
        page(files["pdf"], 4, 70, DOCS / "model-pdf-statements.png")


if __name__ == "__main__":
    main()
