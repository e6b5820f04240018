"""A fake OpenAI-compatible endpoint, in-process: scripted answers, recorded requests.

    fake = FakeModel(reply('{"meta": ...}'), error(429, "slow down", {"retry-after": "1"}))
    client = ModelClient(settings, http_client=fake.http_client())

Unit tests use this instead of any real model; nothing leaves the process.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

try:  # the transport library the installed openai SDK is built on
    import httpx2 as httpx  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - older SDKs
    import httpx  # type: ignore[no-redef,unused-ignore]

Answer = Any  # an httpx Response, an exception to raise, or a callable(body) -> Response


def reply(
    content: str = "",
    *,
    reasoning: str | None = None,
    reasoning_field: str = "reasoning_content",
    tool_calls: list[tuple[str, dict[str, Any]]] | None = None,
    finish: str = "stop",
    usage: tuple[int, int, int, int] = (1000, 200, 0, 0),  # input, output, cached, reasoning
) -> Any:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning is not None:
        message[reasoning_field] = reasoning
    if tool_calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
            for i, (n, a) in enumerate(tool_calls)
        ]
        finish = "tool_calls"
    prompt, completion, cached, thinking = usage
    return httpx.Response(
        200,
        json={
            "id": "cmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": "glm-5",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": cached},
                "completion_tokens_details": {"reasoning_tokens": thinking},
            },
        },
    )


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Any:
    return httpx.Response(status, headers=headers or {}, json={"error": {"message": message, "code": status}})


class FakeModel:
    """Answers in order; `then` (if given) answers every request after the script runs out."""

    def __init__(self, *answers: Answer, then: Answer | None = None) -> None:
        self.answers: list[Answer] = list(answers)
        self.then = then
        self.requests: list[dict[str, Any]] = []

    def http_client(self) -> Any:
        return httpx.Client(transport=httpx.MockTransport(self._handle))

    def _handle(self, request: Any) -> Any:
        body = json.loads(request.content)
        self.requests.append(body)
        if not self.answers and self.then is None:
            raise AssertionError("the fake model received more requests than scripted")
        answer: Answer = self.answers.pop(0) if self.answers else self.then
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, Callable):  # type: ignore[arg-type]
            return answer(body)
        return answer


class FakeServer:
    """The same fake on a loopback port, for a service under test in another process.

    `delay_s` holds each answer back, as a model's generation time would, without serialising requests.
    """

    def __init__(self, fake: FakeModel, delay_s: float = 0.0) -> None:
        self.fake = fake
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(delay_s)
                with lock:
                    try:
                        answer = fake._handle(httpx.Request("POST", "http://fake/v1/chat/completions", content=body))
                    except Exception as e:  # an unscripted request: a 500 the client can report
                        answer = error(500, f"fake model: {e}")
                data = answer.read()
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                for k, v in answer.headers.items():
                    if k.lower() in ("retry-after",):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def timeout() -> BaseException:
    return httpx.ConnectTimeout("timed out")
