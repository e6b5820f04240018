"""The FastAPI application."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import problems
from api.routes import dashboard, datasets, drafts, health, jobs, schedules
from docagent.settings import get_settings
from docagent.store import migrate


@asynccontextmanager
async def lifespan(app: FastAPI) -> Any:
    migrate(get_settings())
    yield


def create_app() -> FastAPI:
    app = FastAPI(
        title="docagent",
        version="0.1.0",
        summary="Plan and render .docx, .xlsx and .pdf documents from data.",
        lifespan=lifespan,
    )
    problems.install(app)
    app.include_router(health.router)
    app.include_router(datasets.router)
    app.include_router(drafts.router)
    app.include_router(jobs.router)
    app.include_router(schedules.router)
    app.include_router(dashboard.router)
    app.mount("/static", StaticFiles(directory=str(dashboard.TEMPLATES / "static")), name="static")
    return app


app = create_app()
