"""The HTTP API and dashboard (FastAPI). It records and enqueues; it never renders."""
