"""The one place mnemo's error tree becomes HTTP: status codes and a JSON body.

Every error answers ``{"error": {"type": "<MnemoError subclass>", "message": "..."}}``
(validation errors add ``details``); the Python client maps ``type`` back to the
class. Request validation (bad JSON, wrong types, sizes) is ``InvalidInput``;
unknown routes and methods are ``NotFound``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mnemo.errors import (
    ConfigurationError,
    Conflict,
    Forbidden,
    InvalidInput,
    MnemoError,
    NotFound,
    PayloadTooLarge,
    ProviderError,
    RateLimited,
    StoreUnavailable,
    Unauthenticated,
)

logger = logging.getLogger(__name__)

#: Most specific first: the first class an error is an instance of decides.
STATUS_BY_ERROR: tuple[tuple[type[MnemoError], int], ...] = (
    (PayloadTooLarge, 413),
    (InvalidInput, 422),
    (NotFound, 404),
    (Conflict, 409),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (RateLimited, 429),
    (StoreUnavailable, 503),
    (ProviderError, 502),
    (ConfigurationError, 500),
)


def status_of(error: MnemoError) -> int:
    """The HTTP status for ``error``."""
    return next((code for cls, code in STATUS_BY_ERROR if isinstance(error, cls)), 500)


def error_response(error: MnemoError, details: list[Any] | None = None) -> JSONResponse:
    """The JSON response for ``error``."""
    status = status_of(error)
    if status >= 500:
        logger.error("%s: %s", type(error).__name__, error.message)
    body: dict[str, Any] = {"type": type(error).__name__, "message": error.message}
    if details:
        body["details"] = details
    headers = {}
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, RateLimited) and error.retry_after is not None:
        headers["Retry-After"] = str(int(error.retry_after))
    return JSONResponse({"error": body}, status_code=status, headers=headers)


async def _mnemo_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MnemoError)
    return error_response(exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"])
    return error_response(InvalidInput(f"{where}: {first['msg']}"), details)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return error_response(NotFound(f"no route {request.url.path}"))
    if exc.status_code == 405:
        response = error_response(InvalidInput(f"{request.method} is not allowed here"))
        response.status_code = 405
        return response
    response = error_response(InvalidInput(str(exc.detail)))
    response.status_code = exc.status_code
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(MnemoError, _mnemo_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
