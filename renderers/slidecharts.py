"""Native PowerPoint charts for the deck (python-pptx): data in an embedded workbook, so "Edit data"
works; styled in the theme's palette; a combo's y2 series moved to a line on a secondary axis.

python-pptx writes the negative c:axId values PowerPoint itself writes, which OOXML validators flag
as errors: they are renumbered from 1.
"""

from __future__ import annotations

import copy
from typing import Any

from pptx.chart.data import CategoryChartData, XyChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION, XL_MARKER_STYLE
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls, qn
from pptx.util import Emu, Pt

from docagent.engine.bind import Bound
from docagent.engine.data.query import OutColumn
from docagent.engine.formatting import CURRENCY_SYMBOLS, excel_compact
from docagent.engine.plan import Chart, ChartKind, Fmt
from docagent.renderers.charts import series_of
from docagent.renderers.theme import Theme

TYPES = {
    ChartKind.bar: XL_CHART_TYPE.COLUMN_CLUSTERED,
    ChartKind.grouped_bar: XL_CHART_TYPE.COLUMN_CLUSTERED,
    ChartKind.stacked_bar: XL_CHART_TYPE.COLUMN_STACKED,
    ChartKind.hbar: XL_CHART_TYPE.BAR_CLUSTERED,
    ChartKind.line: XL_CHART_TYPE.LINE_MARKERS,
    ChartKind.area: XL_CHART_TYPE.AREA,
    ChartKind.pie: XL_CHART_TYPE.PIE,
    ChartKind.donut: XL_CHART_TYPE.DOUGHNUT,
    ChartKind.scatter: XL_CHART_TYPE.XY_SCATTER,
    ChartKind.combo: XL_CHART_TYPE.COLUMN_CLUSTERED,  # the y2 series move to a line on a secondary axis
}
BARS = {ChartKind.bar, ChartKind.grouped_bar, ChartKind.stacked_bar, ChartKind.hbar, ChartKind.combo, ChartKind.area}


def rgb(hex_color: str) -> RGBColor:
    return RGBColor.from_string(hex_color.lstrip("#").upper())


def emu(points: float) -> Emu:
    return Emu(int(round(points * 12700)))


def number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def num_format(col: OutColumn | None, currency: str, compact: bool = False, language: str = "en") -> str:
    """Excel number format for a value column; `compact` for axes (1.2M, 350K; 530万 in Chinese)."""
    fmt = col.format if col is not None else None
    symbol = CURRENCY_SYMBOLS.get(currency.upper(), "") if fmt == Fmt.currency else ""
    pre = f'"{symbol}"' if symbol else ""
    if fmt == Fmt.percent:
        return "0%" if compact else "0.0%"
    if compact or fmt == Fmt.compact:
        return excel_compact(language, symbol)
    if fmt == Fmt.integer:
        return "#,##0"
    return f"{pre}#,##0.00" if fmt in (Fmt.currency, Fmt.number) else "General"


def draw_chart(slide: Any, block: Chart, bound: Bound, i: int, theme: Theme, box: tuple[float, ...]) -> Any:
    kind = ChartKind(block.kind)
    s = series_of(block, bound, i)
    cols = {c.name: c for c in bound.results[i].columns}
    currency = bound.plan.meta.currency
    data: CategoryChartData | XyChartData
    if kind == ChartKind.scatter:
        data = XyChartData()
        xs = [number(x) for x in s.categories]
        for name, ys in s.y:
            ser = data.add_series(name, number_format=num_format(cols.get(name), currency))
            for x, y in zip(xs, ys, strict=True):
                if x is not None:
                    ser.add_data_point(x, y)
    else:
        data = CategoryChartData(number_format=num_format(cols.get(s.y[0][0]), currency))
        data.categories = [str(label) for label in s.labels]
        for name, ys in [*s.y, *s.y2]:
            data.add_series(name, ys, number_format=num_format(cols.get(name), currency))
    x, y, w, h = (emu(v) for v in box)
    chart = slide.shapes.add_chart(TYPES[kind], x, y, w, h, data).chart
    axis_format = num_format(cols.get(s.y[0][0]), currency, compact=True, language=s.language)
    _style(chart, kind, theme, len(s.y) + len(s.y2) > 1, len(s.labels), axis_format)
    values = [v for _, ys in s.y for v in ys]
    if kind in BARS and values and min(values) >= 0:
        chart.value_axis.minimum_scale = 0  # bars are read by their length: they start at zero
    if kind == ChartKind.combo and s.y2:
        _secondary_line(
            chart, len(s.y), num_format(cols.get(s.y2[0][0]), currency, compact=True, language=s.language), theme
        )
    _positive_axis_ids(chart)
    return chart


def _style(chart: Any, kind: ChartKind, theme: Theme, multi: bool, n: int, axis_format: str) -> None:
    chart.has_title = False
    chart.font.size, chart.font.name = Pt(12), theme.docx_font
    chart.font.color.rgb = rgb(theme.text)
    plot = chart.plots[0]
    palette = theme.palette
    if kind in (ChartKind.pie, ChartKind.donut):
        plot.vary_by_categories = True
        for k, point in enumerate(plot.series[0].points):
            point.format.fill.solid()
            point.format.fill.fore_color.rgb = rgb(palette[k % len(palette)])
        chart.has_legend = True
        chart.legend.position, chart.legend.include_in_layout = XL_LEGEND_POSITION.RIGHT, False
        plot.has_data_labels = True
        labels = plot.data_labels
        labels.show_percentage, labels.show_value = True, False
        labels.number_format, labels.number_format_is_linked = "0%", False
        labels.font.size = Pt(12)
        if kind == ChartKind.pie:
            labels.position = XL_LABEL_POSITION.OUTSIDE_END
        return
    chart.has_legend = multi
    if multi:
        chart.legend.position, chart.legend.include_in_layout = XL_LEGEND_POSITION.BOTTOM, False
    for k, ser in enumerate(plot.series):
        color = rgb(palette[k % len(palette)])
        if kind in (ChartKind.line, ChartKind.scatter):
            ser.format.line.color.rgb = color
            ser.format.line.width = Pt(2.25) if kind == ChartKind.line else Pt(0)
            if kind == ChartKind.scatter:
                ser.format.line.fill.background()
            ser.smooth = False
            ser.marker.style = XL_MARKER_STYLE.CIRCLE if n <= 24 or kind == ChartKind.scatter else XL_MARKER_STYLE.NONE
            ser.marker.size = 7
            ser.marker.format.fill.solid()
            ser.marker.format.fill.fore_color.rgb = color
            ser.marker.format.line.color.rgb = color
        else:
            ser.format.fill.solid()
            ser.format.fill.fore_color.rgb = color
    if kind in (ChartKind.bar, ChartKind.grouped_bar, ChartKind.stacked_bar, ChartKind.hbar, ChartKind.combo):
        plot.gap_width = 60
        if not multi and n <= 12:
            plot.has_data_labels = True
            plot.data_labels.number_format_is_linked = False
            plot.data_labels.number_format = axis_format
            plot.data_labels.position = XL_LABEL_POSITION.OUTSIDE_END
            plot.data_labels.font.size = Pt(11)
    value_axis = chart.value_axis
    value_axis.tick_labels.number_format, value_axis.tick_labels.number_format_is_linked = axis_format, False
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.rgb = rgb("#E5E7EB")
    value_axis.format.line.fill.background()
    value_axis.tick_labels.font.size = Pt(11)
    value_axis.tick_labels.font.color.rgb = rgb(theme.muted)
    cat = chart.category_axis
    cat.tick_labels.font.size = Pt(11)
    cat.format.line.color.rgb = rgb("#B0B0B0")
    if kind == ChartKind.hbar:  # first category at the top, values along the bottom
        cat.reverse_order = True
        chart._chartSpace.find(".//" + qn("c:valAx")).find(qn("c:crosses")).set("val", "max")


def _secondary_line(chart: Any, n_bars: int, axis_format: str, theme: Theme) -> None:
    """Move the series after the first `n_bars` from the bar chart to a line chart on a secondary axis."""
    plot_area = chart._chartSpace.find(qn("c:chart")).find(qn("c:plotArea"))
    bar = plot_area.find(qn("c:barChart"))
    cat_ax, val_ax = plot_area.find(qn("c:catAx")), plot_area.find(qn("c:valAx"))
    line = parse_xml(f'<c:lineChart {nsdecls("c")}><c:grouping val="standard"/><c:varyColors val="0"/></c:lineChart>')
    palette = theme.palette
    for k, ser in enumerate(bar.findall(qn("c:ser"))[n_bars:]):
        bar.remove(ser)
        for tag in ("c:invertIfNegative", "c:shape", "c:spPr"):
            for el in ser.findall(qn(tag)):
                ser.remove(el)
        color = palette[(n_bars + k) % len(palette)].lstrip("#")
        fill = f'<a:solidFill><a:srgbClr val="{color}"/></a:solidFill>'
        sp = f'<c:spPr {nsdecls("c", "a")}><a:ln w="28575">{fill}</a:ln></c:spPr>'
        marker = (
            f'<c:marker {nsdecls("c", "a")}><c:symbol val="circle"/><c:size val="7"/>'
            f"<c:spPr>{fill}<a:ln>{fill}</a:ln></c:spPr></c:marker>"
        )
        ser.find(qn("c:tx")).addnext(parse_xml(sp))
        ser.find(qn("c:spPr")).addnext(parse_xml(marker))
        ser.find(qn("c:val")).addnext(parse_xml(f'<c:smooth {nsdecls("c")} val="0"/>'))
        line.append(ser)
    line.append(parse_xml(f'<c:marker {nsdecls("c")} val="1"/>'))
    line.append(parse_xml(f'<c:axId {nsdecls("c")} val="3"/>'))
    line.append(parse_xml(f'<c:axId {nsdecls("c")} val="4"/>'))
    bar.addnext(line)
    cat2, val2 = copy.deepcopy(cat_ax), copy.deepcopy(val_ax)
    cat2.find(qn("c:axId")).set("val", "3")
    cat2.find(qn("c:crossAx")).set("val", "4")
    cat2.find(qn("c:delete")).set("val", "1")
    val2.find(qn("c:axId")).set("val", "4")
    val2.find(qn("c:crossAx")).set("val", "3")
    val2.find(qn("c:axPos")).set("val", "r")
    for el in val2.findall(qn("c:majorGridlines")):
        val2.remove(el)
    crosses = val2.find(qn("c:crosses"))
    if crosses is not None:
        crosses.set("val", "max")
    val2.find(qn("c:numFmt")).set("formatCode", axis_format)
    val_ax.addnext(cat2)
    cat2.addnext(val2)


def _positive_axis_ids(chart: Any) -> None:
    ids: dict[str, str] = {}
    for el in chart._chartSpace.iter(qn("c:axId"), qn("c:crossAx")):
        el.set("val", ids.setdefault(el.get("val"), str(len(ids) + 1)))


__all__ = ["draw_chart", "emu", "num_format", "number", "rgb"]
