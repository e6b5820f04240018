"""Draw each chart of a plan once with matplotlib: PNG for .docx, SVG (vector) for .pdf.

The .xlsx renderer draws native Excel charts instead and only shares the
prepared series (`series_of`).
"""

from __future__ import annotations

import io
import logging
import textwrap
import threading
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # CJK fonts have one weight

from cycler import cycler  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402  (not pyplot: 0.3 s more to import, and a global figure list)
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.ticker import FuncFormatter, PercentFormatter  # noqa: E402

from docagent.engine.bind import Bound  # noqa: E402
from docagent.engine.formatting import compact, format_value  # noqa: E402
from docagent.engine.i18n import REFERENCE, base, cjk, phrase  # noqa: E402
from docagent.engine.images import ImageFile  # noqa: E402
from docagent.engine.plan import Chart, ChartKind, Fmt, Image  # noqa: E402
from docagent.renderers.common import all_text  # noqa: E402
from docagent.renderers.fonts import find_fonts, is_cjk  # noqa: E402
from docagent.renderers.theme import Theme  # noqa: E402

MAX_BARS = 12
MAX_SLICES = 7
WIDTH_IN, HEIGHT_IN = 6.4, 3.4
LOGO = -1  # key of the header logo among the drawn images
RASTER_DPI = 200


@dataclass
class Series:
    categories: list[Any]  # x values as drawn (labels, or numbers for scatter)
    labels: list[str]  # x values as text
    y: list[tuple[str, list[float]]]
    y2: list[tuple[str, list[float]]]
    folded: bool  # the tail was folded into "Other"
    percent: bool = False  # every value is a ratio shown as a percentage
    language: str = "en"  # of the axis numbers
    percent2: bool = False  # the secondary axis (a combo chart's rates) is in percent


@dataclass
class ChartImage:
    png: bytes
    svg: bytes
    width_in: float
    height_in: float


def _num(v: Any) -> float:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0.0


def series_of(block: Chart, bound: Bound, index: int) -> Series:
    """The chart's data, with long tails folded into "Other" when the values add up."""
    res = bound.results[index]
    names = [c.name for c in res.columns]
    xcol = res.columns[names.index(block.x)]
    rows = list(res.rows)
    kind = ChartKind(block.kind)
    limit = MAX_SLICES if kind in (ChartKind.pie, ChartKind.donut) else MAX_BARS
    categorical = kind not in (ChartKind.line, ChartKind.area, ChartKind.scatter, ChartKind.combo)
    folded = False
    language = bound.plan.meta.language
    other_label = phrase(language, "other")
    if categorical and len(rows) > limit:
        yi = names.index(block.y[0])
        rows.sort(key=lambda r: _num(r[yi]), reverse=True)
        additive = all((c.select is None or c.additive) for c in res.columns if c.name in block.y)
        head, tail = rows[: limit - 1], rows[limit - 1 :]
        if additive:
            other: list[Any] = [other_label if n == block.x else None for n in names]
            for n in block.y:
                i = names.index(n)
                other[i] = sum(_num(r[i]) for r in tail)
            rows = [*head, tuple(other)]
            folded = True
        else:
            rows = rows[:limit]
    xs = [r[names.index(block.x)] for r in rows]
    labels = [x if x == other_label and folded else bound.fmt(x, xcol) for x in xs]
    legend = bound.models.legend(block) if bound.models and block.model else {}  # a model row's label
    pick = lambda cols: [(legend.get(n, n), [_num(r[names.index(n)]) for r in rows]) for n in cols]  # noqa: E731
    percent = all(c.format == "percent" for c in res.columns if c.name in block.y)
    percent2 = bool(block.y2) and all(c.format == "percent" for c in res.columns if c.name in (block.y2 or []))
    return Series(xs, labels, pick(block.y), pick(block.y2 or []), folded, percent, language, percent2)


def needs_cjk(bound: Bound) -> bool:
    """Whether the charts carry CJK text (the CJK font joins the fallback list only then)."""
    return cjk(bound.plan.meta.language) or any(is_cjk(ch) for text in all_text(bound) for ch in text)


def _setup_fonts(with_cjk: bool) -> list[str]:
    fonts = find_fonts()
    families = [fonts.regular.family]
    if with_cjk and fonts.cjk is not None:
        font_manager.fontManager.addfont(str(fonts.cjk.path))
        families.append(font_manager.FontProperties(fname=str(fonts.cjk.path)).get_name())
    return families


def _wrap(label: str, width: int = 14) -> str:
    return "\n".join(textwrap.wrap(label, width, max_lines=2, placeholder="…")) or label


def draw(
    block: Chart, bound: Bound, index: int, theme: Theme, formats: tuple[str, ...], families: list[str]
) -> ChartImage:
    s = series_of(block, bound, index)
    kind = ChartKind(block.kind)
    rc: dict[str, Any] = {
        "font.family": families,
        "font.size": 9,
        "axes.edgecolor": "#B0B0B0",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titleweight": "bold",
        "axes.titlesize": 11,
        "axes.titlecolor": theme.text,
        "axes.labelcolor": theme.text,
        "xtick.color": theme.muted,
        "ytick.color": theme.muted,
        # text as text where one font sets it all (searchable in the PDF, parsed 3x faster by svglib);
        # glyphs as paths where CJK text falls back to a second font, which an SVG text cannot name
        "svg.fonttype": "none" if len(families) == 1 else "path",
        "axes.prop_cycle": cycler(color=theme.palette),
    }
    with matplotlib.rc_context(rc):  # type: ignore[arg-type]
        fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), layout="constrained")
        ax = fig.subplots()
        _plot(ax, kind, s, theme)
        ax.set_title(bound.text(block.title), loc="left")
        png, svg = io.BytesIO(), io.BytesIO()
        if "png" in formats:
            fig.savefig(png, format="png", dpi=200)
        if "svg" in formats:
            fig.savefig(svg, format="svg")
    return ChartImage(png.getvalue(), svg.getvalue(), WIDTH_IN, HEIGHT_IN)


def _yaxis(ax: Any, percent: bool = False, language: str = "en", grid: bool = True) -> None:
    if percent and base(language) != REFERENCE:  # the language's percent form: 35,5 %
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_value(v, Fmt.percent, language=language)))
    else:  # PercentFormatter picks the decimals from the axis range: 35.5%, 36.0%, not 36%, 36%
        ax.yaxis.set_major_formatter(
            PercentFormatter(1.0) if percent else FuncFormatter(lambda v, _: compact(v, language))
        )
    if not grid:
        return
    ax.grid(axis="y", color="#E5E7EB", linewidth=0.8)
    ax.set_axisbelow(True)


def _plot(ax: Any, kind: ChartKind, s: Series, theme: Theme) -> None:
    n = len(s.labels)
    pos = list(range(n))
    labels = [_wrap(str(x)) for x in s.labels]
    multi = len(s.y) > 1
    if kind in (ChartKind.pie, ChartKind.donut):
        values = [max(v, 0.0) for v in s.y[0][1]]
        wedge = {"width": 0.42, "edgecolor": "white"} if kind == ChartKind.donut else {"edgecolor": "white"}
        ax.pie(
            values,
            labels=labels,
            colors=theme.palette[:n],
            autopct=lambda p: f"{p:.0f}%" if p >= 4 else "",
            startangle=90,
            counterclock=False,
            wedgeprops=wedge,
            textprops={"fontsize": 8},
        )
        ax.axis("equal")
        return
    if kind == ChartKind.scatter:
        xs = [_num(x) for x in s.categories]
        for name, ys in s.y:
            ax.scatter(xs, ys, s=18, alpha=0.8, label=name)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v, s.language)))
        _yaxis(ax, False, s.language)
        if multi:
            ax.legend(frameon=False)
        return
    if kind == ChartKind.hbar:
        height = 0.8 / len(s.y)
        for k, (name, ys) in enumerate(s.y):
            ax.barh([p + k * height for p in pos], ys, height=height, label=name)
        ax.set_yticks([p + height * (len(s.y) - 1) / 2 for p in pos], labels)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v, s.language)))
        ax.grid(axis="x", color="#E5E7EB", linewidth=0.8)
        ax.set_axisbelow(True)
    elif kind in (ChartKind.line, ChartKind.area):
        for name, ys in s.y:
            ax.plot(pos, ys, marker="o" if n <= 24 else None, markersize=3, linewidth=1.8, label=name)
            if kind == ChartKind.area:
                ax.fill_between(pos, ys, alpha=0.25)
        _xticks(ax, pos, labels)
        _yaxis(ax, s.percent, s.language)
    elif kind == ChartKind.stacked_bar:
        bottom = [0.0] * n
        for name, ys in s.y:
            ax.bar(pos, ys, bottom=bottom, width=0.7, label=name)
            bottom = [b + y for b, y in zip(bottom, ys, strict=True)]
        _xticks(ax, pos, labels)
        _yaxis(ax, s.percent, s.language)
    else:  # bar, grouped_bar, combo
        width = 0.8 / len(s.y)
        for k, (name, ys) in enumerate(s.y):
            ax.bar([p - 0.4 + width * (k + 0.5) for p in pos], ys, width=width * 0.95, label=name)
        _xticks(ax, pos, labels)
        _yaxis(ax, s.percent, s.language)
        if kind == ChartKind.combo and s.y2:
            ax2 = ax.twinx()
            for k, (name, ys) in enumerate(s.y2):
                color = theme.palette[(len(s.y) + k) % len(theme.palette)]
                ax2.plot(pos, ys, color=color, marker="o", markersize=3, linewidth=2, label=name)
            _yaxis(ax2, s.percent2, s.language, grid=False)  # rates read in percent, as their series' format says
            ax2.spines["right"].set_visible(True)
            h1, l1 = ax.get_legend_handles_labels()
            h2, l2 = ax2.get_legend_handles_labels()
            ax.legend(h1 + h2, l1 + l2, frameon=False, loc="upper left", fontsize=8)
            return
    if multi:  # beside the plot: inside, it covers lines and bars
        ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _xticks(ax: Any, pos: list[int], labels: list[str]) -> None:
    step = max(1, len(pos) // 12)  # at most a dozen labels, evenly spaced
    ax.set_xticks(pos[::step], labels[::step])
    if len(pos[::step]) > 6 or max((len(lbl) for lbl in labels), default=0) > 10:
        for t in ax.get_xticklabels():
            t.set_rotation(35)
            t.set_horizontalalignment("right")


def placeholder(block: Image, theme: Theme, width_in: float, families: list[str]) -> ChartImage:
    """A neat box at the requested aspect ratio, labelled with the alt text: where an image will go."""
    w, h = (int(x) for x in (block.aspect or "16:9").split(":"))
    height_in = width_in * h / w
    with matplotlib.rc_context({"font.family": families, "svg.fonttype": "path"}):
        fig = Figure(figsize=(width_in, height_in))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        ax.add_patch(
            Rectangle(
                (0.004, 0.004), 0.992, 0.992, transform=ax.transAxes, facecolor=theme.band_fill,
                edgecolor=theme.muted, linestyle=(0, (5, 3)), linewidth=1.2,
            )
        )  # fmt: skip
        chars = max(8, int(width_in * 9))
        ax.text(0.5, 0.5, textwrap.fill(block.alt, chars, max_lines=4, placeholder="…"), ha="center",
                va="center", color=theme.muted, fontsize=9 if width_in < 3 else 11, transform=ax.transAxes)  # fmt: skip
        png, svg = io.BytesIO(), io.BytesIO()
        fig.savefig(png, format="png", dpi=RASTER_DPI)
        fig.savefig(svg, format="svg")
    return ChartImage(png.getvalue(), svg.getvalue(), width_in, height_in)


def picture(img: ImageFile, width_in: float) -> ChartImage:
    """A given image at the requested width; the PNG slot holds the raster bytes (PNG or JPEG),
    the SVG slot the vector source when there is one."""
    height_in = width_in * img.height / img.width
    if img.kind == "svg":
        return ChartImage(rasterize_svg(img.data, width_in), img.data, width_in, height_in)
    return ChartImage(img.data, b"", width_in, height_in)


def rasterize_svg(data: bytes, width_in: float) -> bytes:
    """A PNG of a checked SVG for the formats that need pixels (.docx, .xlsx)."""
    import cairosvg  # only when a job gives an SVG

    png = cairosvg.svg2png(bytestring=data, output_width=round(width_in * RASTER_DPI), unsafe=False)
    return bytes(png)


def draw_images(bound: Bound, theme: Theme) -> dict[int, ChartImage]:
    out = {}
    families = _setup_fonts(needs_cjk(bound))
    for i, b in enumerate(bound.plan.blocks):
        if isinstance(b, Image):
            width_in = WIDTH_IN * b.width
            src = bound.images.get(b.source) if b.source else None
            out[i] = picture(src, width_in) if src else placeholder(b, theme, width_in, families)
    logo = bound.images.get(theme.logo) if theme.logo else None
    if logo is not None:  # the header logo: at most 1.4 in wide and 0.45 in high
        out[LOGO] = picture(logo, min(1.4, 0.45 * logo.width / logo.height))
    return out


_PYPLOT = threading.Lock()  # pyplot and rcParams are process-global; thread-pool workers take turns


def draw_all(bound: Bound, theme: Theme, formats: tuple[str, ...] = ("png", "svg")) -> dict[int, ChartImage]:
    with _PYPLOT:
        families = _setup_fonts(needs_cjk(bound))
        blocks = enumerate(bound.plan.blocks)
        charts = {i: draw(b, bound, i, theme, formats, families) for i, b in blocks if isinstance(b, Chart)}
        return charts | draw_images(bound, theme)


__all__ = ["LOGO", "ChartImage", "Series", "draw_all", "draw_images", "series_of"]
