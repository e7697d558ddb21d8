"""Sign-ins and sign-outs go to the audit trail (ASVS V7: authentication events are logged)."""

import time

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from core.audit import audit
from core.middleware import _SESSION_STARTED_AT as SESSION_STARTED_AT


@receiver(user_logged_in, dispatch_uid="core.audit.login")
def _logged_in(sender, request, user, **kwargs) -> None:
    audit(action="login", actor=user, obj=user, org=user.org, request=request)
    if request is not None and hasattr(request, "session"):
        # The 12-hour absolute lifetime counts from the sign-in itself (SessionTimeoutMiddleware reads it).
        request.session[SESSION_STARTED_AT] = time.time()


@receiver(user_logged_out, dispatch_uid="core.audit.logout")
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit(action="logout", actor=user, obj=user, org=user.org, request=request)


@receiver(user_login_failed, dispatch_uid="core.audit.login_failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    # The typed name may be anyone's (or a password typed in the wrong box): never store it. Record the
    # targeted account when it exists, so its board sees attacks on it.
    username = credentials.get("username")
    target = get_user_model().objects.filter(username=username).select_related("org").first() if username else None
    audit(
        action="login_failed",
        actor=None,
        obj=target,
        org=target.org if target is not None else None,
        request=request,
    )
