"""Turn an uploaded file into UTF-8 CSV text DuckDB can stage, or say precisely why not.

CSV is only transcoded when it must be; XLSX and JSON are streamed out as CSV so
every format shares one typing path (`docagent.engine.data.typing`).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import itertools
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docagent.errors import EmptyFile, UnreadableData, UnsafeArchive, UnsupportedFormat

FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".ndjson": "json",
    ".jsonl": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}
SNIFF_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
PART_RATIO_FLOOR = 1 << 20  # parts smaller than this cannot cost much, whatever their ratio


@dataclass
class Staged:
    """A sheet of text ready for DuckDB's CSV reader."""

    name: str  # dataset name suggestion (sheet or file stem)
    path: Path
    delimiter: str
    decimal_comma_hint: bool
    excluded: list[str] = field(default_factory=list)  # notes on rows left out (totals)


def detect_format(path: Path) -> str:
    head = _head(path, 8)
    if not head:
        raise EmptyFile(path.name, "the file is empty")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    fmt = FORMATS.get(path.suffix.lower())
    if fmt in ("xlsx", "parquet"):
        raise UnsafeArchive(path.name, f"not a valid {fmt.upper()} file (wrong file signature)")
    if fmt is None:
        raise UnsupportedFormat(
            path.name,
            f"unsupported file type {path.suffix or '(none)'!r}; upload CSV, TSV, XLSX, JSON, NDJSON or Parquet",
        )
    return fmt


def _head(path: Path, n: int) -> bytes:
    with path.open("rb") as f:
        return f.read(n)


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls > max(8, len(sample) // 100)


def detect_encoding(path: Path) -> str:
    """utf-8, utf-8-sig, or cp1252/latin-1 when the bytes are not valid UTF-8."""
    if _head(path, 3) == codecs.BOM_UTF8:
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:  # cp1252 leaves five bytes undefined; fall back to latin-1 for those
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                chunk.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def sniff_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()][:50]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: min(ln.count(d) for ln in lines) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] > 0 else ","


def stage_csv(path: Path, workdir: Path) -> Staged:
    sample = _head(path, SNIFF_BYTES)
    if not sample.strip():
        raise EmptyFile(path.name, "the file is empty")
    if _looks_binary(sample):
        raise UnreadableData(path.name, "binary data, not a text table (expected CSV or TSV)")
    encoding = detect_encoding(path)
    text = sample.decode(encoding, errors="ignore")
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else sniff_delimiter(text)
    decimal_comma = delimiter == ";" or bool(re.search(r"(?<![\d.,])\d+,\d{1,2}(?![\d,])", text))
    if delimiter == ",":
        decimal_comma = False  # a comma can't be both the delimiter and the decimal mark
    staged = path
    if encoding not in (
        "utf-8",
        "utf-8-sig",
    ):  # DuckDB reads UTF-8 (BOM or not); transcode in chunks, memory stays flat
        staged = workdir / f"{path.stem}.utf8.csv"
        with (
            path.open("r", encoding=encoding, newline="") as src,
            staged.open("w", encoding="utf-8", newline="") as dst,
        ):
            while chunk := src.read(1 << 20):
                dst.write(chunk)
    return Staged(path.stem, staged, delimiter, decimal_comma)


def check_xlsx_archive(path: Path, max_bytes: int, max_ratio: float, max_part_bytes: int | None = None) -> None:
    """Refuse zip bombs and non-workbooks before any XML is parsed.

    Each part is bounded on its own: an incompressible part in the same archive must not hide
    one sheet's XML that inflates a thousandfold. Python's zipfile stops at each part's declared
    size when reading, so the sizes checked here are the sizes parsed.
    """
    if not zipfile.is_zipfile(path):
        raise UnsafeArchive(path.name, "not an Excel workbook (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as e:
        raise UnsafeArchive(path.name, f"not an Excel workbook ({e})") from None
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise UnsafeArchive(path.name, "a zip archive but not an Excel workbook (no xl/workbook.xml)")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > max_bytes:
        raise UnsafeArchive(
            path.name,
            f"refused: would inflate to {total / 2**20:.0f} MiB (limit {max_bytes / 2**20:.0f} MiB)",
        )
    if total / packed > max_ratio:
        raise UnsafeArchive(
            path.name,
            f"refused: compression ratio {total / packed:.0f}:1 looks like a zip bomb (limit {max_ratio:.0f}:1)",
        )
    part_limit = max_part_bytes or max_bytes
    for i in infos:
        if i.file_size > part_limit:
            raise UnsafeArchive(
                path.name,
                f"refused: {i.filename} would inflate to {i.file_size / 2**20:.0f} MiB "
                f"(limit {part_limit / 2**20:.0f} MiB per part)",
            )
        ratio = i.file_size / max(1, i.compress_size)
        if i.file_size > PART_RATIO_FLOOR and ratio > max_ratio:
            raise UnsafeArchive(
                path.name,
                f"refused: {i.filename} has a compression ratio of {ratio:.0f}:1, which looks like a zip bomb "
                f"(limit {max_ratio:.0f}:1 per part)",
            )


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return repr(v)
    return str(v).strip()


def _first_text(row: tuple[Any, ...]) -> str:
    return next((str(v).strip() for v in row if isinstance(v, str) and v.strip()), "")


def _header_index(rows: list[tuple[Any, ...]]) -> int:
    """The first row that is as wide as the table and all text: title rows above it are skipped."""
    widths = [sum(1 for v in r if v not in (None, "")) for r in rows]
    widest = max(widths, default=0)
    for i, r in enumerate(rows):
        cells = [v for v in r if v not in (None, "")]
        if cells and len(cells) >= max(1, 0.6 * widest) and all(isinstance(v, str) for v in cells):
            return i
    return 0


# A cell summing a column range (B2:B9): the row it sits in is a totals row.
COLUMN_SUM = re.compile(
    r"^=\s*(?:SUM|SUBTOTAL)\s*\((?:\s*\d+\s*,)?\s*\$?[A-Z]{1,3}\$?(\d+)\s*:\s*\$?[A-Z]{1,3}\$?(\d+)", re.I
)


def _sums_rows(formulas: tuple[Any, ...]) -> bool:
    for f in formulas:
        m = COLUMN_SUM.match(f) if isinstance(f, str) else None
        if m and m.group(1) != m.group(2):
            return True
    return False


def _data_rows(
    values: Iterator[tuple[Any, ...]], formulas: Iterator[tuple[Any, ...]], excluded: list[str]
) -> Iterator[tuple[Any, ...]]:
    """Rows of values, without those whose formulas sum the rows above (their labels go to `excluded`)."""
    for r, f in zip(values, formulas, strict=False):
        if _sums_rows(f):
            excluded.append(_first_text(r))
            continue
        yield r


def stage_xlsx(
    path: Path, workdir: Path, max_bytes: int, max_ratio: float, max_part_bytes: int | None = None
) -> list[Staged]:
    import openpyxl  # defusedxml is installed, so openpyxl parses XML defensively

    check_xlsx_archive(path, max_bytes, max_ratio, max_part_bytes)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        # the same cells as written: formulas tell a totals row from data
        wbf = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as e:  # openpyxl raises many types for broken packages
        raise UnsafeArchive(path.name, f"not a readable Excel workbook ({e})") from None
    out: list[Staged] = []
    try:
        for ws, wsf in zip(wb.worksheets, wbf.worksheets, strict=True):
            excluded: list[str] = []
            rows = _data_rows(ws.iter_rows(values_only=True), wsf.iter_rows(values_only=True), excluded)
            head: list[tuple[Any, ...]] = []
            for r in rows:
                head.append(r)
                if len(head) >= 30:
                    break
            if not any(v not in (None, "") for r in head for v in r):
                continue
            h = _header_index(head)
            header = [_cell_text(v) for v in head[h]]
            while header and not header[-1]:
                header.pop()
            width = len(header)
            target = workdir / f"{path.stem}.{len(out)}.csv"
            with target.open("w", encoding="utf-8", newline="") as f:
                w = csv.writer(f)
                w.writerow(header)
                for r in itertools.chain(head[h + 1 :], rows):
                    cells = [_cell_text(v) for v in r[:width]]
                    if any(cells):
                        w.writerow(cells + [""] * (width - len(cells)))
            if excluded:
                n, labels = len(excluded), ", ".join(repr(x) for x in dict.fromkeys(excluded) if x)
                named = f" ({labels})" if labels else ""
                excluded = [f"{n} totals row{'s' if n > 1 else ''}{named} excluded: formulas summing the rows above"]
            out.append(Staged(ws.title, target, ",", False, excluded))
    finally:
        wb.close()
        wbf.close()
    if not out:
        raise EmptyFile(path.name, "the workbook has no sheet with data")
    return out


def _flatten(obj: dict[str, Any], prefix: str = "", depth: int = 0) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and depth < MAX_JSON_DEPTH:
            flat.update(_flatten(v, key + ".", depth + 1))
        elif isinstance(v, dict | list):
            flat[key] = json.dumps(v, ensure_ascii=False)
        else:
            flat[key] = v
    return flat


def _records(path: Path) -> list[Any]:
    text = path.read_text(encoding=detect_encoding(path))
    if not text.strip():
        raise EmptyFile(path.name, "the file is empty")
    try:
        data = json.loads(text)
    except RecursionError:
        raise UnreadableData(path.name, "JSON nested too deeply") from None
    except json.JSONDecodeError as first_error:
        data = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                data.append(json.loads(line))
            except (json.JSONDecodeError, RecursionError):
                where = f"line {first_error.lineno} column {first_error.colno}"
                raise UnreadableData(
                    path.name, f"invalid JSON at {where}: {first_error.msg} (nor NDJSON: line {n})"
                ) from None
    if isinstance(data, dict):  # {"data": [...]} and similar wrappers
        lists = [v for v in data.values() if isinstance(v, list)]
        data = lists[0] if len(lists) == 1 else [data]
    return data if isinstance(data, list) else [data]


def stage_json(path: Path, workdir: Path) -> Staged:
    records = _records(path)
    if not records:
        raise EmptyFile(path.name, "the JSON array has no records")
    if not all(isinstance(r, dict) for r in records):
        raise UnreadableData(path.name, "JSON is not records: expected an array of objects (or NDJSON lines)")
    flat = [_flatten(r) for r in records]
    columns = list(dict.fromkeys(k for r in flat for k in r))
    target = workdir / f"{path.stem}.json.csv"
    with target.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in flat:
            w.writerow([_cell_text(r.get(c)) for c in columns])
    return Staged(path.stem, target, ",", False)
