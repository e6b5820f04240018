"""The output formats, listed once: name, media type, label, and whether a job writes it by default.

Everything that names formats (API schemas, the CLI, dashboard forms, storage keys, the renderer
table in `renderers/__init__.py`) reads this module; a new format is a row here plus its renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Format = Literal["docx", "xlsx", "pdf", "pptx"]


@dataclass(frozen=True)
class OutputFormat:
    name: Format
    content_type: str
    label: str
    default: bool  # written when a job names no formats; a deck is asked for

    @property
    def extension(self) -> str:
        return f".{self.name}"


_OOXML = "application/vnd.openxmlformats-officedocument."
OUTPUT_FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat("docx", _OOXML + "wordprocessingml.document", "Word document", True),
    OutputFormat("xlsx", _OOXML + "spreadsheetml.sheet", "Excel workbook", True),
    OutputFormat("pdf", "application/pdf", "PDF", True),
    OutputFormat("pptx", _OOXML + "presentationml.presentation", "PowerPoint deck", False),
)
FORMATS: tuple[Format, ...] = tuple(f.name for f in OUTPUT_FORMATS)  # in the order files are listed
DEFAULT_FORMATS: tuple[Format, ...] = tuple(f.name for f in OUTPUT_FORMATS if f.default)
# A burst job's documents arrive as one zip beside (or instead of) the single files: an artifact, not a format
ARTIFACT_ORDER: tuple[str, ...] = (*FORMATS, "zip")
CONTENT_TYPES: dict[str, str] = {f.name: f.content_type for f in OUTPUT_FORMATS} | {"zip": "application/zip"}

assert get_args(Format) == FORMATS, "Format and OUTPUT_FORMATS list the same names"
