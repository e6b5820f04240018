"""docker-compose.yml is for users (no Docker engine here): parse it and check what it promises."""

from __future__ import annotations

import re

import pytest
import yaml

from docagent.settings import Settings
from tests.conftest import ROOT

APP = ["api", "worker-plan", "worker-render", "beat", "flower"]
REQUIRED_ENV = [
    "DOCAGENT_DATABASE_URL", "DOCAGENT_BROKER_URL", "DOCAGENT_STORAGE_URL", "DOCAGENT_LLM_BASE_URL",
    "DOCAGENT_LLM_PROVIDER", "DOCAGENT_LLM_MODEL", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
]  # fmt: skip


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services(compose):
    assert set(compose["services"]) >= {*APP, "redis", "postgres", "minio", "llm", "llm-cpu"}


def test_app_services_get_every_setting_they_need(compose):
    for name in APP:
        env = compose["services"][name]["environment"]
        missing = [k for k in REQUIRED_ENV if not str(env.get(k, "")).strip()]
        assert not missing, (name, missing)
        assert env["DOCAGENT_BROKER_URL"].startswith("redis://redis:")
        assert "@postgres:5432/" in env["DOCAGENT_DATABASE_URL"]
        assert env["DOCAGENT_STORAGE_URL"].startswith("s3://")


def test_every_docagent_variable_named_is_a_real_setting(compose):
    text = (ROOT / "docker-compose.yml").read_text()
    names = set(re.findall(r"\bDOCAGENT_([A-Z0-9_]+)", text))
    fields = {f.upper() for f in Settings.model_fields}
    assert names and names <= fields, names - fields


def test_dependencies_and_health(compose):
    s = compose["services"]
    for name in APP:
        deps = s[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["redis"]["condition"] == "service_healthy"
    assert s["worker-plan"]["depends_on"]["llm"] == {"condition": "service_healthy", "required": False}
    assert s["redis"]["command"][-2:] == ["--appendonly", "yes"]
    for svc in ("api", "redis", "postgres", "minio", "llm", "llm-cpu"):
        assert "healthcheck" in s[svc], svc


def test_gpu_model_server(compose):
    llm = compose["services"]["llm"]
    assert llm["image"].startswith("vllm/vllm-openai")
    cmd = " ".join(llm["command"])
    for flag in ["zai-org/GLM-5-FP8", "--tensor-parallel-size=8", "--reasoning-parser=glm45",
                 "--tool-call-parser=glm47", "--served-model-name=glm-5"]:  # fmt: skip
        assert flag in cmd
    assert llm["ipc"] == "host" and llm["profiles"] == ["gpu"]
    assert llm["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    assert any("huggingface" in v for v in llm["volumes"])
    assert int(llm["healthcheck"]["start_period"].rstrip("s")) >= 1800
    cpu = compose["services"]["llm-cpu"]
    assert cpu["profiles"] == ["cpu"] and "llm" in cpu["networks"]["default"]["aliases"]


def test_worker_pools_fit_their_work(compose):
    plan = " ".join(compose["services"]["worker-plan"]["command"])
    render = " ".join(compose["services"]["worker-render"]["command"])
    assert "--queues plan --pool threads" in plan and "--queues render --pool prefork" in render


def test_dockerfile_installs_the_package():
    text = (ROOT / "Dockerfile").read_text()
    assert "fonts-wqy-zenhei" in text and "pip install" in text and "COPY . ." in text
    assert not re.search(r"^COPY (?!\. \.)", text, re.M), "copy the project, not a list of packages"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var", "out"} <= set(ignored)


def test_the_api_starts_through_the_guarded_entry_point(compose):
    """`docagent serve` refuses DOCAGENT_AUTH=off on a public address; a bare uvicorn would not."""
    assert compose["services"]["api"]["command"][:2] == ["docagent", "serve"]
    assert '"docagent", "serve"' in (ROOT / "Dockerfile").read_text()


def test_flower_is_not_published_and_needs_a_password(compose):
    flower = compose["services"]["flower"]
    assert all(p.startswith("127.0.0.1:") for p in flower["ports"])
    assert flower["environment"]["FLOWER_BASIC_AUTH"] == "${FLOWER_BASIC_AUTH:-}"
    assert 'test -n "$$FLOWER_BASIC_AUTH" ||' in flower["command"][-1]  # no password, no Flower
