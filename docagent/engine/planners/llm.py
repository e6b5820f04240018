"""The model planner: ask, check against schema and data, let the model repair, fall back to rules.

explore (optional tool calls) -> plan (structured output) -> parse -> pydantic
  -> semantic validation -> invented-number check -> repair (budget) -> fallback
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import ValidationError

from docagent.engine.llm import prompt as prompts
from docagent.engine.llm.client import ModelClient, Reply
from docagent.engine.llm.parse import NotJSON, extract_json
from docagent.engine.plan import Plan
from docagent.engine.planners import Planned, PlanRequest, Usage
from docagent.engine.planners.numbers import allowed_numbers, invented_numbers
from docagent.engine.planners.rules import plan_report
from docagent.engine.planners.tools import call as call_tool
from docagent.engine.planners.tools import definitions as tool_definitions
from docagent.engine.schema import lean_plan_schema, plan_schema
from docagent.engine.templatefiles import template_prompt
from docagent.engine.validate import problems as semantic_problems
from docagent.engine.validate import schema_problems
from docagent.errors import (
    ContextTooLong,
    ModelError,
    NothingToPlan,
    RepairBudgetExhausted,
    TokenBudgetExceeded,
)
from docagent.settings import Settings


class LLMPlanner:
    name = "llm"

    def __init__(self, settings: Settings, client: ModelClient | None = None) -> None:
        self.settings = settings
        self.client = client or ModelClient(settings)

    def _agentic(self) -> bool:
        mode = self.settings.llm_agentic
        if mode == "auto":
            return "glm" in self.settings.llm_model.lower() and self.client.provider.tools
        return mode == "on"

    def plan(self, request: PlanRequest) -> Planned:
        usage = Usage()
        started = time.monotonic()
        try:
            plan = self._plan(request, usage, started + self.settings.llm_deadline_s)
            reason = None
        except (ModelError, RepairBudgetExhausted) as e:
            if request.previous is not None:
                raise  # a revision the model could not make is not the rules planner's first draft
            if not request.profiles:
                raise NothingToPlan(
                    f"the model could not plan this document ({e}) and the rules planner needs data"
                ) from None
            plan, reason = plan_report(request.profiles, request.prompt, request.language), str(e)
        usage.latency_s = time.monotonic() - started
        s = self.settings
        fresh = usage.input_tokens - usage.cached_tokens
        usage.cost_usd = (
            fresh * s.llm_price_input + usage.cached_tokens * s.llm_price_cached_input
            + usage.output_tokens * s.llm_price_output
        ) / 1e6  # fmt: skip
        name = "llm" if reason is None else "rules"
        return Planned(plan, name, s.llm_model, reason, usage)

    def _call(self, messages: list[dict[str, Any]], usage: Usage, deadline: float, **kw: Any) -> Reply:
        budget = self.settings.llm_job_token_budget
        if usage.input_tokens + usage.output_tokens >= budget:
            raise TokenBudgetExceeded(
                f"the plan used {usage.input_tokens + usage.output_tokens:,} tokens, over its budget of {budget:,}"
            )
        reply = self.client.chat(messages, deadline=deadline, **kw)
        usage.requests += 1
        usage.input_tokens += reply.input_tokens
        usage.cached_tokens += reply.cached_tokens
        usage.output_tokens += reply.output_tokens
        usage.reasoning_tokens += reply.reasoning_tokens
        return reply

    def _plan(self, req: PlanRequest, usage: Usage, deadline: float) -> Plan:
        level = 0
        while True:
            msgs = prompts.messages(req.prompt, req.profiles, req.language, req.references, level, req.previous)
            if req.catalog.images:  # the model may place them by name
                msgs[-1]["content"] += "\nImage files given with the job: " + ", ".join(req.catalog.images) + "."
            if templates := getattr(req.catalog, "templates", {}):  # the model fills them by name
                msgs[-1]["content"] += template_prompt(templates)
            try:
                if self._agentic() and req.profiles:
                    answered = self._explore(msgs, req, usage, deadline)
                    if answered is not None:
                        return answered
                return self._plan_and_repair(msgs, req, usage, deadline)
            except ContextTooLong:
                if level == 2:
                    raise
                level += 1  # a leaner profile, then names and types only

    def _explore(self, msgs: list[dict[str, Any]], req: PlanRequest, usage: Usage, deadline: float) -> Plan | None:
        """Tool turns; a valid plan the model writes instead of another call is the answer (it is not
        asked to write it again), anything else leads to the structured turn."""
        tools = tool_definitions()
        for _ in range(self.settings.llm_tool_steps):
            reply = self._call(msgs, usage, deadline, tools=tools)
            if not reply.tool_calls:
                text = reply.content if reply.content.strip() else reply.reasoning
                if '"blocks"' in text:
                    earlier = [req.previous.model_dump_json()] if req.previous is not None else []
                    allowed = allowed_numbers(req.prompt, req.profiles, [*req.references, *earlier])
                    plan, _ = self.check(text, req, allowed)
                    return plan
                return None
            msgs.append({
                "role": "assistant",
                "content": reply.content or None,
                "tool_calls": [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                    for c in reply.tool_calls
                ],
            })  # fmt: skip
            for c in reply.tool_calls:
                usage.tool_calls += 1
                result = call_tool(req.catalog, c.name, c.arguments)
                msgs.append({"role": "tool", "tool_call_id": c.id, "content": result})
        return None

    def _plan_and_repair(self, msgs: list[dict[str, Any]], req: PlanRequest, usage: Usage, deadline: float) -> Plan:
        earlier = [req.previous.model_dump_json()] if req.previous is not None else []
        allowed = allowed_numbers(req.prompt, req.profiles, [*req.references, *earlier])
        problems: list[str] = []
        cut = False  # a plan cut off by length gets one repair, asking for fewer blocks
        for attempt in range(self.settings.llm_repair_budget + 1):
            if attempt:
                usage.repairs += 1
            schema = lean_plan_schema() if self.client.provider.lean else plan_schema()
            reply = self._call(msgs, usage, deadline, schema=schema)
            # SGLang may put the whole answer in reasoning_content when thinking is skipped.
            text = reply.content if reply.content.strip() else reply.reasoning
            plan, problems = self.check(text, req, allowed)
            if plan is not None:
                return plan
            if reply.finish_reason == "length":
                problems = [
                    f"the reply was cut off at the output limit ({reply.output_tokens:,} tokens) before the plan "
                    "ended: write the same document with fewer blocks (merge tables that share keys, drop "
                    "secondary charts, shorter prose) and define each repeated expression once in measures"
                ]
                if cut:
                    break  # cut off twice: a third try would be cut off too
                cut = True
            msgs.append({"role": "assistant", "content": text})
            msgs.append({"role": "user", "content": prompts.repair_prompt(problems)})
        raise RepairBudgetExhausted(problems)

    def check(self, text: str, req: PlanRequest, allowed: set[str]) -> tuple[Plan | None, list[str]]:
        try:
            data = extract_json(text)
        except NotJSON as e:
            return None, [str(e)]
        try:
            plan = Plan.model_validate(data)
        except ValidationError:
            return None, schema_problems(data)
        found = semantic_problems(plan, req.catalog)
        if req.profiles:  # figures in prose must be bindings when there is data to bind to
            found += invented_numbers(plan, allowed)
        if found:
            return None, found
        plan.meta.language = plan.meta.language or req.language
        return plan, []
