"""Turn a lost database connection into 503 (a clear, retryable answer), never a 500."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)


class ServiceUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, (OperationalError, InterfaceError)) and _is_connection_error(
            exception
        ):
            log.warning("database unavailable: %s", exception)
            response = JsonResponse(
                {"detail": "The database is unavailable; try again shortly."}, status=503
            )
            response["Retry-After"] = "5"
            return response
        return None


def _is_connection_error(exc: Exception) -> bool:
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
