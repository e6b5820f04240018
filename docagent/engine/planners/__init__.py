"""Planners turn profiles and a prompt into a plan.

A planner is anything with `plan(request) -> Planned`; the rules planner is the
embedded default and the fallback of every model planner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from docagent.engine.data.catalog import Catalog
from docagent.engine.data.profile import Profile
from docagent.engine.plan import Plan
from docagent.engine.planners.rules import plan_report


@dataclass
class Usage:
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    requests: int = 0
    repairs: int = 0
    tool_calls: int = 0
    latency_s: float = 0.0
    cost_usd: float = 0.0


@dataclass
class PlanRequest:
    prompt: str
    profiles: list[Profile]
    catalog: Catalog
    language: str = "en"
    theme: str | None = None
    references: list[str] = field(default_factory=list)  # text of reference documents
    previous: Plan | None = None  # a revision: the plan the prompt's instruction changes


@dataclass
class Planned:
    plan: Plan
    planner: str
    model: str | None = None
    fallback_reason: str | None = None
    usage: Usage = field(default_factory=Usage)


class Planner(Protocol):
    name: str

    def plan(self, request: PlanRequest) -> Planned: ...


class RulesPlanner:
    name = "rules"

    def plan(self, request: PlanRequest) -> Planned:
        plan = plan_report(request.profiles, request.prompt, request.language)
        if request.theme:
            plan.meta.theme = request.theme
        return Planned(plan, self.name)
