from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from docagent.engine.data.catalog import Catalog

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sales.csv"

logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

# Modules that each take half a minute or more on 2 cores (`--durations=25`), longest first. The suite
# runs on two workers a module at a time (`-n 2 --dist loadfile` in pyproject.toml); started first, these
# run beside the many short modules instead of alone at the end (the model server's module alone: ~3 min).
SLOW_MODULES = (
    "test_llm_integration.py",
    "test_faults.py",
    "test_accessibility.py",
    "test_fuzz_api.py",
    "test_recovery.py",
    "test_schedules.py",
    "test_service.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: n for n, name in enumerate(SLOW_MODULES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a module's tests stay together


@pytest.fixture(autouse=True)
def no_configured_model(monkeypatch):
    """Unit tests never reach a real model: drop any endpoint configured in the environment."""
    from docagent.settings import get_settings

    monkeypatch.delenv("DOCAGENT_LLM_BASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def catalog() -> Iterator[Catalog]:
    with Catalog() as c:
        yield c


@pytest.fixture
def write(tmp_path: Path):
    """write("name.csv", text_or_bytes, encoding="utf-8") -> path"""

    def _write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        p = tmp_path / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return p

    return _write


needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
