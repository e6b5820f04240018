"""The FastAPI application."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from docagent.api import problems
from docagent.api.middleware import Authenticate, BodyLimit, SecurityHeaders
from docagent.api.routes import brands, dashboard, dashboard_schedules, datasets, drafts, health, jobs, plans, schedules
from docagent.errors import DocagentError
from docagent.service.store import migrate
from docagent.settings import get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> Any:
    migrate(get_settings())
    yield


async def domain_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, DocagentError)
    if dashboard.wants_page(request):
        return dashboard.error_page(request, problems.status_for(error), str(error))
    return await problems.handle(request, error)


async def http_error(request: Request, error: Exception) -> Response:
    """Unknown pages and refusals: a page for a browser on the dashboard, problem+json on /v1."""
    assert isinstance(error, HTTPException)
    if dashboard.wants_page(request) and error.status_code >= 400:
        return dashboard.error_page(request, error.status_code, str(error.detail))
    if request.url.path.startswith("/v1/") and error.status_code >= 400:
        return problems.http_problem(request, error.status_code, str(error.detail), error.headers)
    return await http_exception_handler(request, error)


async def invalid_request(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    if request.url.path.startswith("/v1/") or request.url.path == "/v1":
        return problems.invalid_request(request, error.errors())
    return await request_validation_exception_handler(request, error)


async def server_error(request: Request, error: Exception) -> Response:
    if problems.unavailable(error):  # the database or broker is down: 503, come back later
        if dashboard.wants_page(request):
            page = dashboard.error_page(request, 503, "The service is briefly unavailable; try again in a moment.")
            page.headers["Retry-After"] = str(problems.RETRY_AFTER_S)
            return page
        return problems.unavailable_problem(request.url.path)
    detail = "The server failed to answer this request; the error is in its log."
    if dashboard.wants_page(request):
        return dashboard.error_page(request, 500, detail)
    # problem+json like every other error; the exception itself stays in the log, never in the answer
    return JSONResponse(problems.body(500, detail, request.url.path, "error", []), 500, media_type=problems.MEDIA_TYPE)


def create_app() -> FastAPI:
    app = FastAPI(
        title="docagent",
        version="0.1.0",
        summary="Plan and render .docx, .xlsx and .pdf documents from data.",
        lifespan=lifespan,
    )
    problems.install(app)
    app.add_exception_handler(DocagentError, domain_error)  # dashboard pages get HTML, /v1 problem+json
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, server_error)
    # the last added runs first: headers on every answer, then who is asking, then how much they send
    app.add_middleware(BodyLimit)
    app.add_middleware(Authenticate)
    app.add_middleware(SecurityHeaders)
    app.include_router(health.router)
    app.include_router(brands.router)
    app.include_router(datasets.router)
    app.include_router(drafts.router)
    app.include_router(jobs.router)
    app.include_router(plans.router)
    app.include_router(schedules.router)
    app.include_router(dashboard.router)
    app.include_router(dashboard_schedules.router)
    app.mount("/static", StaticFiles(directory=str(dashboard.TEMPLATES / "static")), name="static")
    return app


app = create_app()
