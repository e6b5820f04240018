"""Celery: the app (importable by the API to enqueue) and thin tasks (imported by workers only)."""
