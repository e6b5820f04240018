"""Every text a reader sees in a plan, listed in one place.

Validation (placeholders), the invented-number check and translation all read texts through
`block_texts`, so a new field a reader sees (a caption, an alt text, a model row's label) is
checked everywhere at once; the `match` is exhaustive, so mypy names this function when a block
type is added.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import assert_never

from docagent.engine.plan import (
    Block,
    Bullets,
    Callout,
    Chart,
    Heading,
    Image,
    Kpis,
    Model,
    PageBreak,
    Paragraph,
    Plan,
    Table,
)


def block_texts(block: Block) -> list[str]:
    """The prose of one block, in reading order; empty optional texts left out."""
    texts: list[str | None]
    match block:
        case Heading() | Paragraph():
            texts = [block.text]
        case Bullets():
            texts = list(block.items)
        case Callout():
            texts = [block.title, block.text]
        case Kpis():
            texts = [k.label for k in block.items]
        case Table() | Chart():
            texts = [block.headline, block.title, block.caption]
        case Image():
            texts = [block.alt, block.caption]
        case Model():
            texts = [block.title]
            texts += [x for i in block.inputs for x in (i.label, i.note)]
            texts += [r.label for r in block.rows]
        case PageBreak():
            texts = []
        case _:
            assert_never(block)
    return [t for t in texts if t]


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def block_names(blocks: list[Block]) -> list[str]:
    """'block 4 (chart 'Revenue by quarter' under 'Results › Growth')': a model finds a block by its
    title and the headings above it."""
    out: list[str] = []
    path: list[tuple[int, str]] = []  # the open headings, outermost first
    for i, b in enumerate(blocks, 1):
        if isinstance(b, Heading):
            path = [(level, text) for level, text in path if level < b.level]
        title = getattr(b, "title", None) or (b.text if isinstance(b, Heading) else None)
        name = f"block {i} ({b.type}"
        if title:
            name += f" {_short(title)!r}"
        if path:
            name += " under " + repr(" › ".join(_short(text, 30) for _, text in path))
        out.append(name + ")")
        if isinstance(b, Heading):
            path.append((b.level, b.text))
    return out


def plan_texts(plan: Plan) -> Iterator[tuple[str, str]]:
    """(where, text) for the plan's meta, every block and every metric and measure label."""
    meta = plan.meta
    for field, text in (("meta.title", meta.title), ("meta.subtitle", meta.subtitle), ("meta.author", meta.author)):
        if text:
            yield field, text
    for b, where in zip(plan.blocks, block_names(plan.blocks), strict=True):
        for text in block_texts(b):
            yield where, text
    for m in plan.metrics:
        yield f"metric {m.name!r}", m.label
    for x in plan.measures:
        yield f"measure {x.name!r}", x.label
