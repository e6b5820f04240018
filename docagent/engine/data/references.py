"""Reference documents (.txt, .md, .docx, .pdf) as plain text for the planner, within a token budget."""

from __future__ import annotations

import re
from pathlib import Path

from docagent.engine.data.readers import detect_encoding
from docagent.errors import EmptyFile, UnreadableData

REFERENCE_SUFFIXES = {".txt", ".md", ".markdown", ".docx", ".pdf"}


def is_reference(path: Path | str) -> bool:
    return Path(path).suffix.lower() in REFERENCE_SUFFIXES


def read_text(path: Path) -> str:
    suffix = path.suffix.lower()
    try:
        if suffix == ".docx":
            import docx  # reads only; writing .docx lives in renderers.word

            d = docx.Document(str(path))
            parts = [p.text for p in d.paragraphs]
            for t in d.tables:
                parts += [" | ".join(c.text for c in row.cells) for row in t.rows]
            text = "\n".join(parts)
        elif suffix == ".pdf":
            import pypdf

            text = "\n\n".join(page.extract_text() or "" for page in pypdf.PdfReader(path).pages)
        else:
            text = path.read_text(encoding=detect_encoding(path))
    except (OSError, ValueError, KeyError) as e:
        raise UnreadableData(path.name, f"not a readable {suffix} document ({e})") from None
    except Exception as e:  # python-docx and pypdf raise their own types for broken files
        raise UnreadableData(path.name, f"not a readable {suffix} document ({type(e).__name__})") from None
    if not text.strip():
        raise EmptyFile(path.name, "the document has no text")
    return text


def tokens(text: str) -> int:
    """A cheap estimate: ~4 characters per token for Latin text, ~1 per CJK character."""
    cjk = len(re.findall(r"[\u3040-\u9fff\uac00-\ud7af]", text))
    return cjk + (len(text) - cjk) // 4 + 1


def condense(name: str, text: str, budget: int) -> str:
    """Keep every section's beginning, cut evenly, so a long report still shows its whole outline."""
    if tokens(text) <= budget:
        return f"# {name}\n{text.strip()}"
    sections = [s for s in re.split(r"\n(?=#{1,6} |\S[^\n]{0,80}\n[=-]{3,})|\n\s*\n\s*\n", text) if s.strip()]
    share = max(40, budget // max(1, len(sections)))
    kept = []
    for s in sections:
        s = s.strip()
        if tokens(s) > share:
            ratio = share / tokens(s)
            s = s[: max(1, int(len(s) * ratio))].rstrip() + " […]"
        kept.append(s)
    out = f"# {name} (condensed)\n" + "\n\n".join(kept)
    while tokens(out) > budget and kept:  # many tiny sections: drop from the end
        kept.pop()
        out = f"# {name} (condensed)\n" + "\n\n".join(kept) + "\n\n[…]"
    return out


def load_references(paths: list[Path], budget: int) -> list[str]:
    texts = [(p.name, read_text(p)) for p in paths]
    each = budget // max(1, len(texts))
    return [condense(name, text, each) for name, text in texts]
