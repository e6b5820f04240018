"""Uploads are bounded while they are read, and parsing them never stalls the API."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from docagent.engine.data.readers import check_xlsx_archive
from docagent.errors import UnsafeArchive
from tests.service import Stack, embedded, free_port

LIMIT = 10 * 2**20
MiB = 2**20


class Counting:
    """Wraps the app and counts the body bytes it actually received."""

    def __init__(self, app: Any) -> None:
        self.app, self.read = app, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def counted() -> Any:
            message = await receive()
            self.read += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@pytest.fixture
def server(tmp_path, monkeypatch) -> Iterator[tuple[int, Counting]]:
    """The real app in this process (so its reads can be counted), on a free port."""
    import uvicorn

    from docagent.settings import get_settings

    for k, v in {"DOCAGENT_VAR_DIR": str(tmp_path / "var"), "DOCAGENT_MAX_UPLOAD_BYTES": str(LIMIT),
                 "DOCAGENT_AUTH": "off"}.items():  # fmt: skip
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    from docagent.api.app import create_app

    counting = Counting(create_app())
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(counting, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield port, counting
    srv.should_exit = True
    thread.join(10)
    get_settings.cache_clear()


def send_until_answered(port: int, head: bytes, chunks: Iterator[bytes]) -> tuple[bytes, int]:
    """Send a request as fast as the server takes it; stop at the first byte of an answer."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(head)
        for chunk in chunks:
            if select.select([s], [], [], 0)[0]:
                break
            try:
                s.sendall(chunk)
            except OSError:  # the server closed the connection after answering
                break
            sent += len(chunk)
        s.settimeout(10)
        answer = b""
        try:
            while b"\r\n" not in answer:
                data = s.recv(4096)
                if not data:
                    break
                answer += data
        except OSError:
            pass
    return answer, sent


def multipart_chunked(total: int) -> Iterator[bytes]:
    """A 300 MB file upload in HTTP chunks, generated lazily."""
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\na,b\r\n'
    yield b"%x\r\n%s\r\n" % (len(part), part)
    block = b"1,2\n" * (MiB // 4)
    for _ in range(total // MiB):
        yield b"%x\r\n%s\r\n" % (len(block), block)
    yield b"0\r\n\r\n"


HEAD = "POST /v1/datasets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n{length}\r\n"


def test_a_chunked_300_mb_upload_is_refused_within_a_megabyte_of_the_limit(server):
    port, counting = server
    head = HEAD.format(length="Transfer-Encoding: chunked\r\n").encode()
    answer, sent = send_until_answered(port, head, multipart_chunked(300 * MiB))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert LIMIT < counting.read <= LIMIT + MiB, counting.read
    assert sent < 300 * MiB


def test_a_declared_oversize_body_is_refused_before_any_of_it_is_read(server):
    port, counting = server
    head = HEAD.format(length=f"Content-Length: {300 * MiB}\r\n").encode()
    answer, _ = send_until_answered(port, head, iter([b"x" * MiB] * 300))
    assert answer.startswith(b"HTTP/1.1 413") and counting.read == 0


# --- workbooks: each part is bounded, not only the archive ---


def padded_bomb(path: Path, sheet_mib: int = 300, padding_mib: int = 5) -> Path:
    """Highly compressible sheet XML hidden behind an incompressible part, so the archive's ratio looks fine."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(b"<worksheet><sheetData>")
            row = b'<row><c t="inlineStr"><is><t>a</t></is></c></row>' * 20_000
            for _ in range(sheet_mib * MiB // len(row)):
                f.write(row)
            f.write(b"</sheetData></worksheet>")
        z.writestr(zipfile.ZipInfo("xl/media/padding.bin"), os.urandom(padding_mib * MiB))
    return path


def test_the_archive_ratio_alone_would_pass_the_padded_bomb(tmp_path):
    path = padded_bomb(tmp_path / "bomb.xlsx")
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
    total, packed = sum(i.file_size for i in infos), sum(i.compress_size for i in infos)
    assert total / packed < 200 and total < 512 * MiB  # the old checks, as configured by default


def test_a_part_inflating_far_more_than_a_workbook_does_is_refused(tmp_path):
    path = padded_bomb(tmp_path / "bomb.xlsx")
    with pytest.raises(UnsafeArchive, match="xl/worksheets/sheet1.xml"):
        check_xlsx_archive(path, 512 * MiB, 200.0, 256 * MiB)


def test_one_oversized_part_is_refused_even_at_an_ordinary_ratio(tmp_path):
    path = tmp_path / "wide.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<worksheet>" + b" " * (3 * MiB) + b"</worksheet>")
    with pytest.raises(UnsafeArchive, match="sheet1.xml would inflate to 3 MiB"):
        check_xlsx_archive(path, 512 * MiB, 200.0, 2 * MiB)


# --- the event loop stays free while files are parsed ---


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[Stack]:
    with embedded(tmp_path_factory.mktemp("uploads")) as s:
        yield s


def big_csv(path: Path, mib: int = 60) -> Path:
    row = b"2024-01-05,North,Widget,12.50,3,online\n"
    with path.open("wb") as f:
        f.write(b"day,region,product,price,units,channel\n")
        for _ in range(mib * MiB // (len(row) * 10_000)):
            f.write(row * 10_000)
    return path


def test_healthz_answers_within_a_second_while_a_bomb_and_a_60_mb_csv_are_ingested(live, tmp_path):
    files = [padded_bomb(tmp_path / "bomb.xlsx"), big_csv(tmp_path / "big.csv")]
    results: dict[str, int] = {}

    def send(path: Path) -> None:
        with live.client() as c, path.open("rb") as f:
            results[path.name] = c.post("/v1/datasets", files={"file": (path.name, f)}, timeout=300).status_code

    senders = [threading.Thread(target=send, args=(p,)) for p in files]
    for t in senders:
        t.start()
    latencies = []
    while any(t.is_alive() for t in senders):
        t0 = time.perf_counter()
        assert httpx.get(live.base + "/healthz", timeout=30).status_code == 200
        latencies.append(time.perf_counter() - t0)
        time.sleep(0.1)
    for t in senders:
        t.join()
    assert results == {"bomb.xlsx": 422, "big.csv": 201}
    assert len(latencies) >= 10  # the CSV took a while: the probes ran while it was read and parsed
    assert max(latencies) < 1.0, sorted(latencies)[-5:]


# --- the parsing child leaves nothing behind, however it ends ---

CLEANUP = """
import os, sys
from pathlib import Path
from docagent.engine.data.isolated import inspect_file
from docagent.errors import DocagentError
from docagent.settings import Settings

files, tmp = Path(sys.argv[1]), Path(sys.argv[2])
before = {p for p in os.listdir(tmp) if not p.startswith("pymp-")}  # the forkserver's socket: one per process
outcomes = []
for name in sorted(os.listdir(files)):
    settings = Settings(ingest_cpu_s=1) if name.startswith("killed") else Settings()
    try:
        inspect_file(files / name, settings)
        outcomes.append("ok")
    except DocagentError:
        outcomes.append("refused")
after = {p for p in os.listdir(tmp) if not p.startswith("pymp-")}
print("RESULT", outcomes.count("ok"), outcomes.count("refused"), sorted(after - before))
"""


def test_twenty_uploads_leave_no_temporary_files_whether_read_refused_or_killed(tmp_path):
    files, tmp = tmp_path / "files", tmp_path / "tmp"
    files.mkdir()
    tmp.mkdir()
    for i in range(12):
        (files / f"good{i:02}.csv").write_text("region,amount\nNorth,1\nSouth,2\n" * (i + 1))
    (files / "refused_empty.csv").write_bytes(b"")
    (files / "refused_binary.csv").write_bytes(bytes(range(256)) * 64)
    (files / "refused_zip.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    (files / "refused_deep.json").write_text("[" * 100_000 + "]" * 100_000)
    for i in range(4):  # each needs well over the one CPU second it is given
        with big_csv(files / f"killed{i}.csv", mib=40).open("ab") as f:
            f.write(b"2024-01-05,North\n")  # a short row: the one-threaded text read, after the parallel one refuses
    env = {**os.environ, "TMPDIR": str(tmp)}
    r = subprocess.run([sys.executable, "-c", CLEANUP, str(files), str(tmp)], env=env, capture_output=True, text=True,
                       timeout=600)  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    result = r.stdout[r.stdout.rindex("RESULT") :].split(maxsplit=3)  # after DuckDB's progress bar
    assert result[1:3] == ["12", "8"], r.stdout[-500:]
    assert result[3].strip() == "[]", result[3]  # what was left in the temporary directory
