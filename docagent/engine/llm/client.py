"""One chat call with our own retry policy (the SDK's retries are off so Retry-After is honoured)."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import openai

from docagent.engine.llm.providers import PROVIDERS, Provider
from docagent.errors import ContextTooLong, ModelAuthFailed, ModelRejected, ModelUnavailable
from docagent.settings import Settings

CONTEXT_HINTS = (
    "context length",
    "context_length",
    "maximum context",
    "too many tokens",
    "prompt is too long",
)


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass
class Reply:
    content: str
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0


def retry_after(response: Any) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    value = response.headers.get("retry-after") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


class ModelClient:
    def __init__(
        self,
        settings: Settings,
        http_client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.provider: Provider = PROVIDERS[settings.llm_provider]
        self.sleep, self.clock = sleep, clock
        self.sdk = openai.OpenAI(
            api_key=settings.llm_api_key or "not-needed",
            base_url=settings.llm_base_url,
            timeout=settings.llm_timeout_s,
            max_retries=0,
            http_client=http_client,
        )

    def chat(
        self,
        messages: list[dict[str, Any]],
        *,
        schema: dict[str, Any] | None = None,
        tools: list[dict[str, Any]] | None = None,
        deadline: float | None = None,
    ) -> Reply:
        s, p = self.settings, self.provider
        body: dict[str, Any] = {
            "model": s.llm_model,
            "messages": messages,
            "max_tokens": min(s.llm_max_output_tokens, p.max_output),
            "temperature": s.llm_temperature,
            "top_p": s.llm_top_p,
        }
        if schema is not None:
            body["response_format"] = p.response_format(schema)
        if tools:
            body["tools"] = tools
            body["tool_choice"] = "auto"
        extra = p.thinking_body(s.llm_thinking == "on")
        attempts = s.llm_max_retries + 1
        for attempt in range(attempts):
            try:
                completion = self.sdk.chat.completions.create(**body, extra_body=extra or None)
                return self._reply(completion)
            except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
                raise ModelAuthFailed(f"the model endpoint refused the API key ({e.status_code})") from None
            except openai.BadRequestError as e:
                text = str(e).lower()
                if any(h in text for h in CONTEXT_HINTS):
                    raise ContextTooLong(str(e)) from None
                raise ModelRejected(f"the model endpoint rejected the request: {e.message}") from None
            except openai.APIStatusError as e:
                retryable = e.status_code == 429 or e.status_code >= 500
                if not retryable:
                    raise ModelRejected(f"the model endpoint answered {e.status_code}: {e.message}") from None
                wait, why = retry_after(e.response), f"HTTP {e.status_code}"
            except (openai.APITimeoutError, openai.APIConnectionError) as e:
                wait, why = None, type(e).__name__
            if attempt == attempts - 1:
                break
            delay = wait if wait is not None else min(30.0, 0.5 * 2**attempt) * (0.5 + random.random())
            if deadline is not None and self.clock() + delay > deadline:
                raise ModelUnavailable(f"planning deadline reached while the endpoint answered {why}")
            self.sleep(delay)
        raise ModelUnavailable(f"the model endpoint failed {attempts} times (last: {why})")

    def _reply(self, completion: Any) -> Reply:
        choice = completion.choices[0]
        msg = choice.message
        reasoning = ""
        for name in self.provider.reasoning_fields:
            value = getattr(msg, name, None) or (msg.model_extra or {}).get(name)
            if value:
                reasoning = str(value)
                break
        calls = [
            ToolCall(c.id, c.function.name, c.function.arguments or "{}")
            for c in (msg.tool_calls or [])
            if getattr(c, "function", None) is not None
        ]
        reply = Reply(msg.content or "", reasoning, calls, choice.finish_reason)
        u = completion.usage
        if u is not None:
            reply.input_tokens = u.prompt_tokens or 0
            reply.output_tokens = u.completion_tokens or 0
            details = getattr(u, "prompt_tokens_details", None)
            reply.cached_tokens = (getattr(details, "cached_tokens", 0) or 0) if details else 0
            out_details = getattr(u, "completion_tokens_details", None)
            reply.reasoning_tokens = (getattr(out_details, "reasoning_tokens", 0) or 0) if out_details else 0
        return reply
