"""Domain errors become HTTP here and nowhere else: `application/problem+json` (RFC 9457) plus `code`.

Routes and services raise `DocagentError` subclasses; the one handler below picks the HTTP
status from the error's stable `code` and writes the body
`{"type", "title", "status", "detail", "instance", "code", "problems"}`. FastAPI's own request
validation (code `invalid_request`, each error in `problems`) and Starlette's unknown routes
(`not_found`) answer in the same shape on /v1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import InterfaceError, OperationalError

from docagent.errors import DocagentError, NotSignedIn, TooManyJobs

MEDIA_TYPE = "application/problem+json"

# Every code of the tree in docagent/errors.py (a test keeps this complete). Errors that only
# ever end a job (planner, model, render) still get a status, should one reach a route.
STATUS_BY_CODE: dict[str, int] = {
    "error": 500,
    "bad_input": 422,
    "invalid_plan": 422,
    "invalid_expression": 422,
    "bad_query": 422,
    "planner_failed": 502,
    "nothing_to_plan": 422,
    "model_not_configured": 422,
    "invalid_model_output": 502,
    "model_error": 502,
    "model_unavailable": 503,
    "model_auth_failed": 502,
    "model_rejected": 502,
    "context_too_long": 502,
    "token_budget_exceeded": 502,
    "model_not_json": 502,
    "render_failed": 500,
    "font_missing": 500,
    "storage_error": 503,
    "source_failed": 422,
    "delivery_failed": 502,
    "invalid_schedule": 422,
    "unsupported_language": 422,
    "invalid_key": 422,
    "invalid_brand": 422,
    "unknown_brand": 422,
    "in_use": 409,
    "unauthorized": 401,
    "forbidden": 403,
    "forbidden_destination": 422,
    "not_found": 404,
    "job_not_found": 404,
    "dataset_not_found": 404,
    "schedule_not_found": 404,
    "brand_not_found": 404,
    "artifact_not_found": 404,
    "illegal_transition": 409,
    "too_many_jobs": 429,
    "upload_too_large": 413,
    "revision_refused": 409,
    "model_required": 409,
    "no_plan": 409,
}


def status_for(error: DocagentError) -> int:
    return STATUS_BY_CODE.get(error.code, 500)


RETRY_AFTER_S = 5  # a service the API depends on is down: ask clients to come back soon


def headers_for(error: DocagentError) -> dict[str, str]:
    if isinstance(error, NotSignedIn):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, TooManyJobs):
        return {"Retry-After": str(error.retry_after)}
    if status_for(error) == 503:
        return {"Retry-After": str(RETRY_AFTER_S)}
    return {}


def unavailable(error: BaseException) -> bool:
    """The database or the broker could not be reached (not a bug in the request or in us)."""
    if isinstance(error, OperationalError | InterfaceError) or getattr(error, "connection_invalidated", False):
        return True
    return isinstance(error, KombuOperationalError | RedisConnectionError | ConnectionError | TimeoutError)


def unavailable_problem(instance: str) -> JSONResponse:
    detail = "the job store or the queue is unreachable; try again shortly"
    return JSONResponse(
        body(503, detail, instance, "service_unavailable", []),
        503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
        media_type=MEDIA_TYPE,
    )


def problem(error: DocagentError, instance: str) -> dict[str, object]:
    out = body(status_for(error), str(error), instance, error.code, list(getattr(error, "problems", [])))
    if field := getattr(error, "field", None):  # the request field at fault, for a form to mark it
        out["field"] = field
    return out


async def handle(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DocagentError)
    return JSONResponse(
        problem(error, request.url.path), status_for(error), headers=headers_for(error), media_type=MEDIA_TYPE
    )


def body(status: int, detail: str, instance: str, code: str, problems: list[str]) -> dict[str, object]:
    return {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        "problems": problems,
    }


def where(loc: Sequence[object]) -> str:
    """pydantic's error location as a path: ('body', 'formats', 0) -> 'formats.0'."""
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts)


def invalid_request(request: Request, errors: Sequence[Any]) -> JSONResponse:
    """FastAPI's own 422 (a body or parameter of the wrong shape), as problem+json with every error."""
    found = [f"{where(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors]
    detail = "the request is not valid: " + "; ".join(found) if found else "the request is not valid"
    return JSONResponse(body(422, detail, request.url.path, "invalid_request", found), 422, media_type=MEDIA_TYPE)


def http_problem(request: Request, status: int, detail: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """Starlette's own errors (an unknown route, a method not allowed) in the same shape."""
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")
    return JSONResponse(
        body(status, detail, request.url.path, code, []), status, headers=dict(headers or {}), media_type=MEDIA_TYPE
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DocagentError, handle)
