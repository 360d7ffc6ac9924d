"""Turn a lost database connection into 503 (a clear, retryable answer), never a 500."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE = "The database is unavailable; try again shortly."


class ServiceUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            log.warning("database unavailable: %s", exception)
            return unavailable_response(request)
        return None


def is_database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError)) and _is_connection_error(exc)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON for the API, a short plain page for everything else."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": MESSAGE}, status=503)
    else:
        response = HttpResponse(
            f"Service unavailable. {MESSAGE}\n",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _is_connection_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    markers = (
        "connection",
        "server closed",
        "terminating",
        "could not connect",
        "the database system is",
        "shutting down",
        "recovery mode",
        "starting up",
        "connection refused",
    )
    return any(m in text for m in markers)
