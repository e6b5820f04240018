"""The processes `docagent serve` runs beside the server: the embedded worker and scheduler."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence


class Children:
    """Started processes that never outlive the server.

    `stop` is also the server's SIGTERM/SIGINT handler. A handler runs between two lines of the main thread,
    so a signal could land after a child is forked but before it is listed, and that child would be left
    running; a stop that lands while a child starts is therefore held, and carried out once it is listed.
    """

    def __init__(self, stop_s: float) -> None:
        self.stop_s = stop_s  # how long the children get to stop, together
        self.procs: list[subprocess.Popen[bytes]] = []
        self._starting = False
        self._held: int | None = None  # the signal of a stop that arrived while a child started

    def start(self, argv: Sequence[str], env: dict[str, str]) -> None:
        self._starting = True
        try:
            self.procs.append(subprocess.Popen(argv, env=env))
        finally:
            self._starting = False
            if self._held is not None:
                self.stop(self._held)

    def stop(self, signum: int | None = None, _frame: object = None) -> None:
        if self._starting:  # only a signal handler runs while a child starts
            self._held = signum
            return
        for proc in self.procs:
            proc.terminate()
        deadline = time.monotonic() + self.stop_s  # one wait for all: a slow worker does not delay the scheduler
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
        if signum is not None:
            raise SystemExit(128 + signum)
