"""PNG previews of a PDF's first pages for the dashboard (pdfium, shipped in the pypdfium2 wheel)."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium


def previews(pdf: Path, out_dir: Path, pages: int = 3, width_px: int = 900) -> list[Path]:
    doc = pdfium.PdfDocument(str(pdf))
    try:
        out = []
        for i in range(min(pages, len(doc))):
            page = doc[i]
            scale = width_px / page.get_width()
            path = out_dir / f"preview-{i + 1}.png"
            page.render(scale=scale).to_pil().save(path, optimize=True)
            out.append(path)
        return out
    finally:
        doc.close()
