"""Read and profile an untrusted file in a child process with CPU-time and memory bounds.

A hostile workbook or an enormous CSV then costs one bounded process, never the API's
event loop or its memory. Children fork from a server that has the readers imported
already, so each costs milliseconds, not an interpreter start.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import resource
import shutil
import signal
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from docagent.engine.data.catalog import Catalog, Dataset, dataset_name, save_typed
from docagent.engine.data.profile import Profile, profile
from docagent.errors import DocagentError, UnreadableData
from docagent.settings import Settings

_context: Any = None
STDERR = "stderr.txt"  # in the child's scratch folder
OUT_OF_MEMORY = re.compile(r"cannot allocate memory|out of memory|MemoryError|bad_alloc", re.IGNORECASE)


def _ctx() -> Any:
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload([__name__])
    return _context


def _child(conn: Connection, path: str, settings: Settings, workdir: str, keep: str | None) -> None:
    # what the child's C code says before it dies (the loader, DuckDB) is kept for the parent to read
    said = os.open(Path(workdir) / STDERR, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(said, 2)
    os.close(said)
    cpu = max(1, settings.ingest_cpu_s)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_AS, (settings.ingest_memory_bytes, settings.ingest_memory_bytes))
    name = Path(path).name
    try:
        with Catalog(settings=settings, workdir=Path(workdir)) as catalog:
            found = catalog.ingest(Path(path))
            if not found:  # an image, for one: stored as it is, never profiled as a table
                raise UnreadableData(name, "holds no table of data to profile")
            ds = found[0]
            if keep is not None:
                save_typed(catalog, found, dataset_name(Path(path).stem, set()), Path(keep))
            conn.send(("ok", ds, profile(catalog, ds)))
    except DocagentError as e:
        conn.send(("error", e, None))
    except MemoryError:
        conn.send(("error", UnreadableData(name, _too_big(settings)), None))
    except Exception as e:  # a reader's own failure: say what it was, never a limit that was not reached
        if "outofmemory" in type(e).__name__.lower():  # DuckDB's own out-of-memory error, under RLIMIT_AS
            conn.send(("error", UnreadableData(name, _too_big(settings)), None))
        else:
            conn.send(("error", UnreadableData(name, f"could not be read ({type(e).__name__}: {e})"[:500]), None))
    finally:
        conn.close()


def _too_big(settings: Settings) -> str:
    return (
        f"reading this file needed more than {settings.ingest_cpu_s} s of CPU time or "
        f"{settings.ingest_memory_bytes / 2**20:.0f} MiB of memory "
        "(DOCAGENT_INGEST_CPU_S, DOCAGENT_INGEST_MEMORY_BYTES)"
    )


def _died(name: str, exitcode: int | None, settings: Settings, stderr: str = "") -> UnreadableData:
    """Why a child gave no answer: a limit only when the kernel, the wall clock or the child's last words say so."""
    if exitcode == -signal.SIGXCPU:
        return UnreadableData(name, f"reading this file needed more than {settings.ingest_cpu_s} s of CPU time")
    if exitcode is None or exitcode == -signal.SIGKILL:  # still running at the wall-clock guard, or killed for memory
        return UnreadableData(name, _too_big(settings))
    last = stderr.strip().splitlines()[-1][-300:] if stderr.strip() else ""
    if OUT_OF_MEMORY.search(last):  # under RLIMIT_AS some C code exits rather than raise (the loader: status 127)
        return UnreadableData(name, _too_big(settings))
    how = f"signal {signal.Signals(-exitcode).name}" if exitcode < 0 else f"exit status {exitcode}"
    said = f": {last}" if last else " before it could say why"
    return UnreadableData(name, f"the reader stopped unexpectedly ({how}){said}")


def inspect_file(path: Path, settings: Settings, keep: Path | None = None) -> tuple[Dataset, Profile]:
    """The first dataset in `path` and its profile, computed in a bounded child process.

    With `keep` (an empty directory), every dataset of the file is also written there in its typed
    form (`save_typed`), so nothing has to parse the original again.
    """
    ctx = _ctx()
    # the parent owns the child's scratch space: a child killed by its limits cannot clean up
    workdir = tempfile.mkdtemp(prefix="docagent-ingest-")
    receiver, sender = ctx.Pipe(duplex=False)
    keep_dir = None if keep is None else str(keep)
    child = ctx.Process(target=_child, args=(sender, str(path), settings, workdir, keep_dir), daemon=True)
    try:
        child.start()
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    sender.close()
    status, hung = "error", False
    value: Any = None  # no answer, until the child sends one
    prof: Any = None
    try:
        # CPU time bounds the work; the wall clock only guards against a child that hangs
        if receiver.poll(settings.ingest_cpu_s * 4 + 30):
            status, value, prof = receiver.recv()
        else:
            hung = True
    except EOFError:  # the child ended without answering: its exit code says why
        pass
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()
        stderr = _read_tail(Path(workdir) / STDERR) if value is None else ""  # only a child that gave no answer
        shutil.rmtree(workdir, ignore_errors=True)
    if status == "ok":
        return value, prof
    if isinstance(value, DocagentError):
        raise value
    raise _died(path.name, None if hung else child.exitcode, settings, stderr)


def _read_tail(path: Path, size: int = 4096) -> str:
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - size))
            return f.read().decode(errors="replace")
    except OSError:
        return ""


__all__ = ["inspect_file"]
