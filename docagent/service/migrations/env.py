"""Alembic environment: the engine comes from docagent's settings, never from an ini file."""

from __future__ import annotations

from alembic import context

from docagent.service.store import Base, engine

config = context.config
connectable = config.attributes.get("engine") or engine()

with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
