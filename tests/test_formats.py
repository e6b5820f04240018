"""Output formats are listed once (docagent/engine/formats.py); every other list is read from it."""

from __future__ import annotations

import pytest

from docagent.engine.formats import CONTENT_TYPES, DEFAULT_FORMATS, FORMATS
from docagent.errors import RenderError
from docagent.renderers import RENDERERS, render_all


def test_every_format_has_a_renderer_and_a_media_type():
    assert tuple(RENDERERS) == FORMATS and set(CONTENT_TYPES) == {*FORMATS, "zip"}  # zip: a burst's documents
    assert set(DEFAULT_FORMATS) == {"docx", "xlsx", "pdf"}  # a deck is asked for


def test_the_api_offers_exactly_the_registered_formats():
    from typing import get_args

    from docagent.api.schemas import ALL_FORMATS, JobCreate

    field = JobCreate.model_fields["formats"].annotation
    assert set(get_args(get_args(field)[0])) == set(FORMATS) and list(DEFAULT_FORMATS) == ALL_FORMATS


def test_an_unknown_format_is_refused_with_the_choices(tmp_path):
    with pytest.raises(RenderError, match="choose from docx, xlsx, pdf, pptx"):
        render_all(None, "corporate", tmp_path, "x", ["odt"])  # type: ignore[arg-type]
