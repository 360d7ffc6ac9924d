"""Login with throttling of attempts (per username and per client address).

Each attempt is counted atomically *before* the password is checked, so fifty concurrent
guesses cannot all slip through a check-then-count window. A successful login clears the
username's counter.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _keys(request: HttpRequest) -> list[str]:
    username = (request.POST.get("username") or "").strip().lower()
    address = request.META.get("REMOTE_ADDR", "")
    digest = hashlib.sha256(username.encode()).hexdigest()[:32]
    return [f"login-attempt:user:{digest}", f"login-attempt:addr:{address}"]


def _incr(key: str) -> int:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    cache.add(key, 0, timeout=window)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def _blocked(request: HttpRequest) -> bool:
    """Count this attempt against the username atomically; check the address's failures."""
    user_key, addr_key = _keys(request)
    limit = settings.LOGIN_FAILURES_PER_WINDOW
    if (cache.get(addr_key) or 0) >= limit * 5:
        return True
    return _incr(user_key) > limit


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        # Allow the limit of failures plus the one attempt that may succeed.
        if _blocked(request):
            return render(
                request,
                self.template_name,
                {"form": self.get_form(), "throttled": True},
                status=429,
            )
        response = super().post(request, *args, **kwargs)
        user_key, addr_key = _keys(request)
        if response.status_code == 302:
            cache.delete(user_key)
        else:
            _incr(addr_key)
        return response
