"""The request type of views that read `request.htmx`.

django-htmx's HtmxMiddleware (always installed, see MIDDLEWARE in settings) sets the attribute
on every request; annotating a view's request with this subclass tells the type checker so, as
django-htmx's documentation recommends. It is never instantiated.
"""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
