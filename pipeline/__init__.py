"""The job's steps as plain functions (generate: in-process; jobs: by job id for the workers)."""

FORMATS = ("docx", "xlsx", "pdf")  # the default set; "pptx" adds a deck
