"""One settings object, read from the environment (prefix ``DOCAGENT_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCAGENT_", extra="ignore")

    var_dir: Path = Path("var")
    # Service. Unset URLs mean the embedded defaults: SQLite and files under var_dir, a
    # filesystem broker, a storage directory; set them for PostgreSQL, Redis and S3.
    database_url: str | None = None
    broker_url: str | None = None
    storage_url: str | None = None
    broker_visibility_timeout_s: int = 3600
    # API keys: every /v1 route needs `Authorization: Bearer KEY` and each key is an owner.
    # off: one implicit owner, for local development on loopback only.
    auth: Literal["on", "off"] = "on"
    owner: str = "local"  # the owner when auth is off
    secret_key: str | None = None  # signs dashboard sessions; generated under var_dir when unset
    session_max_age_s: int = 8 * 3600
    metrics_token: str | None = None  # /metrics answers only `Authorization: Bearer TOKEN` when set
    jobs_per_minute: int = Field(30, ge=1)  # per key
    max_concurrent_jobs: int = Field(10, ge=1)  # per key, queued or running
    stale_job_s: int = 1800  # a sent job the broker cannot be asked about is sent again after this long
    job_lease_s: int = 30  # a worker renews its hold on a job this often x3; past it, the worker is gone
    recovery_interval_s: float = 10.0  # how often the scheduler looks for lost jobs
    job_time_limit_s: int = 900
    public_url: str = "http://127.0.0.1:8000"  # base of download links in webhook bodies

    # Schedules. Connections for SQL sources, by name: DOCAGENT_CONNECTIONS='{"warehouse": "postgresql+psycopg://..."}'
    connections: dict[str, str] = {}
    sql_timeout_s: float = 60.0
    sql_row_limit: int = 1_000_000
    schedule_grace_s: float = 120.0  # a run starting later than this after its fire time is flagged late
    beat_interval_s: float = 1.0
    max_schedules: int = 20  # per key; each fire also counts against the key's job limits
    min_schedule_interval_s: int = 60  # the shortest time between two fires of one schedule
    webhook_max_attempts: int = 5
    webhook_timeout_s: float = 10.0
    # Webhooks reach public addresses only; list internal networks a receiver may use, e.g. '["10.1.2.0/24"]'.
    webhook_allow: list[str] = []
    # Which keys may use each connection, by key name: '{"warehouse": ["finance"]}'. Unlisted: no key may.
    connection_grants: dict[str, list[str]] = {}
    max_upload_bytes: int = 100 * 1024 * 1024
    max_body_bytes: int = 4 * 1024 * 1024  # any other body (JSON, form fields): parsed whole in memory
    draft_ttl_s: int = 3600  # an upload profiled for the New job form but never submitted is deleted after this
    max_rows: int = 5_000_000
    max_columns: int = 500
    # An .xlsx is a zip: refuse it before parsing when it would inflate past these.
    max_xlsx_uncompressed_bytes: int = 512 * 1024 * 1024
    max_xlsx_ratio: float = 200.0  # for the archive and for each part
    max_xlsx_part_bytes: int = 256 * 1024 * 1024  # one part (a sheet's XML) inflated
    ingest_cpu_s: int = 120  # CPU seconds one upload's ingestion may use, in its own process
    ingest_memory_bytes: int = 2 * 1024**3  # address space of that process
    duckdb_memory_limit: str = "256MB"  # DuckDB spills past this: memory stays bounded as rows grow

    # Model endpoint (OpenAI-compatible). No base URL: `--planner auto` uses the rules planner.
    llm_base_url: str | None = None
    llm_model: str = "glm-5"
    llm_api_key: str | None = None
    llm_provider: Literal["vllm", "sglang", "zai", "openrouter", "llamacpp", "openai"] = "vllm"
    llm_thinking: Literal["on", "off"] = "off"
    llm_timeout_s: float = 120.0
    llm_deadline_s: float = 600.0
    llm_max_retries: int = 3
    # The output budget a plan may use: the provider's own limit (GLM-5 servers write long answers), capped here.
    llm_max_output_tokens: int = 16384
    llm_temperature: float = 1.0
    llm_top_p: float = 0.95
    llm_repair_budget: int = 2
    llm_job_token_budget: int = 200_000  # input + output tokens one plan may spend across all its requests
    # Let the model look at the data through read-only tools before planning.
    # auto: on for GLM-class models, off for llama.cpp (its tool calling depends on the chat format).
    llm_agentic: Literal["auto", "on", "off"] = "auto"
    llm_tool_steps: int = 3
    reference_token_budget: int = 8000
    # US$ per million tokens; GLM-5 list prices.
    llm_price_input: float = 1.00
    llm_price_cached_input: float = 0.20
    llm_price_output: float = 3.20

    default_theme: str = "corporate"


@lru_cache
def get_settings() -> Settings:
    return Settings()
