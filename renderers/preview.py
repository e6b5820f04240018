"""PNG previews of a PDF's first pages for the dashboard (pdfium, shipped in the pypdfium2 wheel).

pdfium is not thread-safe, even across documents, and a worker's threads render side by side:
every use of it in this process (these previews, the QA pass's PDF check) holds `PDFIUM`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pypdfium2 as pdfium

PDFIUM = threading.Lock()


def previews(pdf: Path, out_dir: Path, pages: int = 3, width_px: int = 900) -> list[Path]:
    with PDFIUM:
        return _previews(pdf, out_dir, pages, width_px)


def _previews(pdf: Path, out_dir: Path, pages: int, width_px: int) -> list[Path]:
    doc = pdfium.PdfDocument(str(pdf))
    try:
        out = []
        for i in range(min(pages, len(doc))):
            page = doc[i]
            scale = width_px / page.get_width()
            path = out_dir / f"preview-{i + 1}.png"
            page.render(scale=scale).to_pil().save(path)  # optimize=True tripled the time for ~10% fewer bytes
            out.append(path)
        return out
    finally:
        doc.close()


def office_pdf(src: Path, out_dir: Path, timeout: float = 120.0) -> Path | None:
    """The file as PDF through LibreOffice; None where LibreOffice is absent or fails (a preview is optional)."""
    exe = shutil.which("soffice")
    if exe is None:
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="docagent-lo-") as profile:  # a private profile: parallel runs never clash
        cmd = [exe, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--convert-to", "pdf"]
        try:
            subprocess.run(
                [*cmd, "--outdir", str(out_dir), str(src)], capture_output=True, timeout=timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
    pdf = out_dir / f"{src.stem}.pdf"
    return pdf if pdf.is_file() else None


def deck_previews(deck: Path, out_dir: Path, pages: int = 3) -> list[Path]:
    """PNGs of a deck's first slides, or none where LibreOffice is not installed."""
    pdf = office_pdf(deck, out_dir / "slides-pdf")
    return previews(pdf, out_dir, pages) if pdf is not None else []
