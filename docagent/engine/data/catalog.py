"""A DuckDB database of ingested datasets: the only place data files become tables."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from docagent.engine.data import readers
from docagent.engine.data.sql import quote
from docagent.engine.data.totals import drop_total_rows, text_order, total_rows
from docagent.engine.data.typing import cast_table, infer, read_typed, settle
from docagent.engine.images import ImageFile, is_image, read_image
from docagent.engine.templatefiles import TemplateFile, read_template
from docagent.errors import UnreadableData
from docagent.settings import Settings, get_settings

NUMERIC = ("integer", "number")
TEMPORAL = ("date", "datetime")


@dataclass
class Column:
    name: str
    type: str  # integer | number | date | datetime | boolean | text
    order: list[str] | None = None  # natural order of an ordinal text key (Q1..Q4, months), set by profiling


@dataclass
class Dataset:
    name: str
    source: str  # file name it came from
    format: str
    table: str
    rows: int
    columns: list[Column] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what ingestion changed, e.g. totals rows dropped
    sheet: str | None = None  # the worksheet's own name, for a workbook of several sheets

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def dataset_name(raw: str, taken: set[str]) -> str:
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode().lower()
    name = re.sub(r"[^a-z0-9]+", "_", text).strip("_") or "dataset"
    if name[0].isdigit():
        name = "d_" + name
    base, n = name, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def _column_names(raw: list[str]) -> list[str]:
    names: list[str] = []
    for i, r in enumerate(raw, 1):
        name = " ".join(str(r).split()) or f"column_{i}"
        base, n = name, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


class Catalog:
    """Datasets of one job (or one CLI run), held in one DuckDB database."""

    def __init__(self, path: Path | None = None, settings: Settings | None = None, workdir: Path | None = None) -> None:
        """`workdir`: a directory its caller owns and removes (a process that may be killed cannot clean up)."""
        self.settings = settings or get_settings()
        self._owned = workdir is None
        self._tmp = Path(tempfile.mkdtemp(prefix="docagent-")) if workdir is None else workdir
        db = str(path) if path else str(self._tmp / "catalog.duckdb")
        self.con = duckdb.connect(db)
        self.con.execute(f"SET memory_limit = '{self.settings.duckdb_memory_limit}'")
        self.con.execute(f"SET temp_directory = '{self._tmp / 'spill'}'")
        self.con.execute("SET preserve_insertion_order = false")
        if path is None:  # a scratch database, removed at close: writing it out first would be wasted
            self.con.execute("PRAGMA disable_checkpoint_on_shutdown")
        self.datasets: dict[str, Dataset] = {}
        self.images: dict[str, ImageFile] = {}  # by file name, for image blocks and brand logos
        self.templates: dict[str, TemplateFile] = {}  # by name, for meta.template

    def close(self) -> None:
        self.con.close()
        if self._owned:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, name: str) -> Dataset | None:
        return self.datasets.get(name)

    def add_template(self, path: Path | str, name: str | None = None) -> TemplateFile:
        """An organisation's template given with the job (checked and profiled); no dataset."""
        tpl = read_template(Path(path), name)
        self.templates[tpl.name] = tpl
        return tpl

    def ingest(self, path: Path | str, name: str | None = None) -> list[Dataset]:
        """Load one file (every sheet of a workbook) and return its datasets."""
        path = Path(path)
        if not path.is_file():
            raise UnreadableData(path.name, "no such file" if not path.exists() else "not a regular file")
        if path.stat().st_size == 0:
            raise readers.EmptyFile(path.name, "the file is empty")
        if is_image(path):  # given with the job like data; no dataset
            self.images[name or path.name] = read_image(path)
            return []
        fmt = readers.detect_format(path)
        work = Path(tempfile.mkdtemp(dir=self._tmp))
        try:
            if fmt == "parquet":
                return [self._load_parquet(path, name or path.stem)]
            if fmt == "csv":
                staged = [readers.stage_csv(path, work)]
            elif fmt == "json":
                staged = [readers.stage_json(path, work)]
            else:
                s = self.settings
                staged = readers.stage_xlsx(
                    path, work, s.max_xlsx_uncompressed_bytes, s.max_xlsx_ratio, s.max_xlsx_part_bytes
                )
                if len(staged) > 1:
                    sheets = [st.name for st in staged]
                    for st in staged:
                        st.name = f"{name or path.stem}_{st.name}"
                    loaded = [self._load_text(path, fmt, st, st.name) for st in staged]
                    for ds, sheet in zip(loaded, sheets, strict=True):
                        ds.sheet = sheet  # a reader names a sheet by its title, not by the file
                    return loaded
            return [self._load_text(path, fmt, st, name or st.name) for st in staged]
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _register(self, path: Path, fmt: str, name: str, table: str, notes: tuple[str, ...] = ()) -> Dataset:
        rows_row = self.con.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()
        rows = int(rows_row[0]) if rows_row else 0
        if rows == 0:
            self.con.execute(f"DROP TABLE {quote(table)}")
            raise readers.EmptyFile(path.name, "no data rows under the header")
        if rows > self.settings.max_rows:
            self.con.execute(f"DROP TABLE {quote(table)}")
            raise UnreadableData(path.name, f"{rows:,} rows exceed the limit of {self.settings.max_rows:,}")
        cols = [
            Column(n, _our_type(t))
            for n, t in self.con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
        ]
        for c in cols:
            if c.type == "text":
                c.order = text_order(self.con, table, c.name)
        ds = Dataset(name, path.name, fmt, table, rows, cols, list(notes))
        self.datasets[name] = ds
        return ds

    def _load_text(self, path: Path, fmt: str, st: readers.Staged, name: str) -> Dataset:
        name = dataset_name(name, set(self.datasets))
        notes = self._read_typed(path, st, name)
        if notes is None:
            notes = self._read_text(path, st, name)
        return self._register(path, fmt, name, name, tuple(notes))

    def _read_typed(self, path: Path, st: readers.Staged, name: str) -> list[str] | None:
        """The file as table `name`, read in parallel and typed by DuckDB where it types as `infer`
        would; None (and no table) when only the all-text read gives the same table."""
        if not read_typed(self.con, str(st.path), st.delimiter, st.decimal_comma_hint, name):
            return None
        described = self.con.execute(f"DESCRIBE {quote(name)}").fetchall()
        raw, read_as = [r[0] for r in described], [r[1] for r in described]
        text = [c for c, d in zip(raw, read_as, strict=True) if d == "VARCHAR"]
        if len(raw) > self.settings.max_columns or total_rows(self.con, name, raw, text):
            # too wide: the text read says so; totals rows: columns are typed without them, as text first
            self.con.execute(f"DROP TABLE {quote(name)}")
            return None
        inferred = dict(zip(text, infer(self.con, name, text, st.decimal_comma_hint), strict=True))
        settle(self.con, name, raw, _column_names(raw), read_as, inferred)
        return list(st.excluded)

    def _read_text(self, path: Path, st: readers.Staged, name: str) -> list[str]:
        """The file read as text in one thread, its totals rows dropped, then typed into table `name`."""
        stage = f"__stage_{name}"
        try:
            self.con.execute(
                # null_padding reads short rows; its parallel reader cannot see newlines inside
                # quotes ("CSV Error on Line: 2"), so read in one thread, which is as fast here
                f"CREATE TABLE {quote(stage)} AS SELECT * FROM read_csv(?, delim = ?, "
                "header = true, all_varchar = true, quote = '\"', escape = '\"', "
                "null_padding = true, parallel = false)",
                [str(st.path), st.delimiter],
            )
        except duckdb.Error as e:
            msg = str(e).split("\n")[0]
            raise UnreadableData(path.name, f"not a readable CSV table ({msg})") from None
        try:
            raw = [r[0] for r in self.con.execute(f"DESCRIBE {quote(stage)}").fetchall()]
            if len(raw) > self.settings.max_columns:
                raise UnreadableData(path.name, f"{len(raw)} columns exceed the limit of {self.settings.max_columns}")
            notes = [*st.excluded, *drop_total_rows(self.con, stage, raw)]
            types = infer(self.con, stage, raw, st.decimal_comma_hint)
            cast_table(self.con, stage, name, raw, _column_names(raw), types)
        finally:
            self.con.execute(f"DROP TABLE IF EXISTS {quote(stage)}")
        return notes

    def load_typed(self, path: Path, name: str, source: str, fmt: str, notes: list[str]) -> Dataset:
        """A table that `save_typed` wrote, under the name and with the origin the original file gave it."""
        ds = self._load_parquet(path, name)
        ds.source, ds.format, ds.notes = source, fmt, list(notes)
        return ds

    def _load_parquet(self, path: Path, name: str) -> Dataset:
        name = dataset_name(name, set(self.datasets))
        try:
            self.con.execute(  # in file order, as text tables are (see typing.cast_table)
                f"CREATE TABLE {quote(name)} AS SELECT * EXCLUDE (file_row_number) "
                "FROM read_parquet(?, file_row_number = true) ORDER BY file_row_number",
                [str(path)],
            )
        except duckdb.Error as e:
            msg = str(e).split("\n")[0]
            raise UnreadableData(path.name, f"not a readable Parquet file ({msg})") from None
        return self._register(path, "parquet", name, name)


MANIFEST = "manifest.json"


def save_typed(catalog: Catalog, found: list[Dataset], base: str, out: Path) -> None:
    """Write each dataset as Parquet (types kept, file order kept) plus a manifest, for `Catalog.load_typed`.

    `base` is the name ingestion gave the file's first dataset before any sheet suffix, so a
    reader can rename the tables as ingesting the file under another name would have.
    """
    entries = []
    for i, ds in enumerate(found):
        target = out / f"{i}.parquet"
        # a path we made (no quote in it); COPY takes no parameter for its file name
        catalog.con.execute(f"COPY (SELECT * FROM {quote(ds.table)} ORDER BY rowid) TO '{target}' (FORMAT parquet)")
        entries.append({"file": target.name, "name": ds.name, "notes": ds.notes})
    (out / MANIFEST).write_text(json.dumps({"base": base, "tables": entries}))


def _our_type(duck: str) -> str:
    d = duck.upper()
    if d in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER"):
        return "integer"
    if d in ("DOUBLE", "FLOAT", "REAL") or d.startswith("DECIMAL"):
        return "number"
    if d == "DATE":
        return "date"
    if d.startswith("TIMESTAMP"):
        return "datetime"
    if d == "BOOLEAN":
        return "boolean"
    return "text"


__all__ = ["MANIFEST", "NUMERIC", "TEMPORAL", "Catalog", "Column", "Dataset", "dataset_name", "save_typed"]
