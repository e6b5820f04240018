"""The rules planner's phrases per language (English and Chinese; others fall back to English)."""

from __future__ import annotations

EN = {
    "title": "{name} report",
    "subtitle": "Generated from {source}",
    "dataset": "Dataset: {name}",
    "summary": "Summary",
    "records": "Records",
    "covers": "This report covers {rows} records from {source}.",
    "total": "Total {m}",
    "average": "Average {m}",
    "total_sentence": "Total {m} is {total}, an average of {avg} per record.",
    "change": "Change, first to last {bucket}",
    "change_sentence": "From the first {bucket} to the last, {m} changed by {change}.",
    "trend": "Trend over time",
    "trend_title": "{m} by {bucket}",
    "trend_caption": "Sum per {bucket}.",
    "period": "Period",
    "by": "Breakdown by {c}",
    "rank_title": "{m} by {c}",
    "rank_caption": "Top values of {c}; the rest are folded into Other.",
    "rank_caption_all": "All values of {c}, largest first.",
    "table_title": "Totals by {c}",
    "table_caption": "Sorted by the first value column; the last row is the total.",
    "no_measure": "The data has no numeric column and no category to group by, so the report "
    "lists the columns only.",
    "appendix": "Appendix: data dictionary",
    "dictionary": "Columns of {source}",
    "column": "Column",
    "type": "Type",
    "examples": "Examples or range",
    "day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year",
    "type_integer": "whole number", "type_number": "number", "type_date": "date",
    "type_datetime": "date and time", "type_boolean": "yes/no", "type_text": "text",
}  # fmt: skip

ZH = {
    "title": "{name} 报告",
    "subtitle": "数据来源：{source}",
    "dataset": "数据集：{name}",
    "summary": "摘要",
    "records": "记录数",
    "covers": "本报告涵盖来自 {source} 的 {rows} 条记录。",
    "total": "{m}合计",
    "average": "{m}平均值",
    "total_sentence": "{m}合计为 {total}，每条记录平均 {avg}。",
    "change": "首末{bucket}变化",
    "change_sentence": "从第一个{bucket}到最后一个{bucket}，{m}变化了 {change}。",
    "trend": "时间趋势",
    "trend_title": "按{bucket}的{m}",
    "trend_caption": "每{bucket}合计。",
    "period": "期间",
    "by": "按{c}细分",
    "rank_title": "按{c}的{m}",
    "rank_caption": "{c}的前几名，其余归入“其他”。",
    "rank_caption_all": "{c}的全部取值，从大到小。",
    "table_title": "按{c}汇总",
    "table_caption": "按第一个数值列排序；最后一行为合计。",
    "no_measure": "数据中没有数值列，也没有可分组的类别，因此报告仅列出各列。",
    "appendix": "附录：数据字典",
    "dictionary": "{source} 的列",
    "column": "列",
    "type": "类型",
    "examples": "示例或范围",
    "day": "日", "week": "周", "month": "月", "quarter": "季度", "year": "年",
    "type_integer": "整数", "type_number": "数值", "type_date": "日期",
    "type_datetime": "日期时间", "type_boolean": "是/否", "type_text": "文本",
}  # fmt: skip


def words(language: str) -> dict[str, str]:
    return ZH if language.lower().startswith("zh") else EN
