"""What differs between the doors GLM-5 is reached through.

Each profile knows how to ask for structured output, how to switch thinking,
and where the reasoning text comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Structured = Literal["json_schema", "json_object_schema", "json_object"]
Thinking = Literal["chat_template_kwargs", "zai", "openrouter", "none"]


@dataclass(frozen=True)
class Provider:
    name: str
    structured: Structured
    thinking: Thinking
    reasoning_fields: tuple[str, ...]
    tools: bool
    max_output: int = 32768  # output tokens one answer may use; GLM-5 itself writes up to 131,072
    lean: bool = False  # vLLM, SGLang: the schema requires only what has no default (docagent.engine.schema)
    schema_in_prompt: bool = True  # the stable system prefix always carries the schema

    def response_format(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self.structured == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {"name": "document_plan", "schema": schema, "strict": True},
            }
        if self.structured == "json_object_schema":  # llama.cpp: grammar from the schema
            return {"type": "json_object", "schema": schema}
        return {"type": "json_object"}  # Z.ai: JSON mode only; the schema is in the prompt

    def thinking_body(self, on: bool) -> dict[str, Any]:
        if self.thinking == "chat_template_kwargs":  # vLLM and SGLang with GLM's template
            return {"chat_template_kwargs": {"enable_thinking": on}}
        if self.thinking == "zai":
            return {"thinking": {"type": "enabled" if on else "disabled"}}
        if self.thinking == "openrouter":
            return {"reasoning": {"enabled": on}}
        return {}


PROVIDERS: dict[str, Provider] = {
    "vllm": Provider(
        "vllm", "json_schema", "chat_template_kwargs", ("reasoning", "reasoning_content"), True, lean=True
    ),
    "sglang": Provider(
        "sglang", "json_schema", "chat_template_kwargs", ("reasoning_content", "reasoning"), True, lean=True
    ),
    "zai": Provider("zai", "json_object", "zai", ("reasoning_content",), True),
    "openrouter": Provider("openrouter", "json_schema", "openrouter", ("reasoning", "reasoning_content"), True),
    "llamacpp": Provider("llamacpp", "json_object_schema", "none", ("reasoning_content",), False, max_output=4096),
    "openai": Provider("openai", "json_schema", "none", ("reasoning", "reasoning_content"), True, max_output=16384),
}
