import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

_SESSION_STARTED_AT = "_session_started_at"
_SESSION_REFRESHED_AT = "_session_refreshed_at"


class SessionTimeoutMiddleware:
    """Absolute session lifetime, and the idle timer: an active session is saved (which restarts its
    SESSION_COOKIE_AGE) once every SESSION_REFRESH_SECONDS, instead of on every request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(_SESSION_STARTED_AT)
            now = time.time()
            if started is not None and now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                return redirect(settings.LOGIN_URL)
            if started is None or now - request.session.get(_SESSION_REFRESHED_AT, 0) >= settings.SESSION_REFRESH_SECONDS:
                session_refresh(request.session, now)
        return self.get_response(request)


def session_refresh(session, now: float) -> None:
    """Start the absolute clock of a new session and restart the idle timer: the session is marked modified, so it
    is saved (new expiry, new cookie) at the end of the request."""
    session.setdefault(_SESSION_STARTED_AT, now)
    session[_SESSION_REFRESHED_AT] = now


class NoStoreMiddleware:
    """Pages and files carry personal data: browsers and proxies must not keep copies."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(settings.STATIC_URL):
            response["Cache-Control"] = "no-store"
        return response


class AuditContextMiddleware:
    """Makes the current request known to core.audit.audit() for the duration of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from core.audit import current_request

        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)
