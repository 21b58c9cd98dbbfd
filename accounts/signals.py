"""Login, logout and failed logins go to the security record (AuthEvent); a logout closes its console sockets."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.live import publish_session_ended
from accounts.security import auth_event_record


@receiver(user_logged_in)
def _on_login(sender, request, user, **kwargs):
    auth_event_record(kind="LOGIN", request=request, user=user)


@receiver(user_logged_out)
def _on_logout(sender, request, user, **kwargs):
    if user is not None:
        auth_event_record(kind="LOGOUT", request=request, user=user)
        if request is not None and request.session.session_key:
            session_key = request.session.session_key
            # Django flushes the session only after this signal; the sockets told now reload their pages at once, and
            # a reload that came before the flush would still find the user signed in. So it goes first.
            request.session.delete()
            publish_session_ended(user_id=user.pk, session_key=session_key)


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs):
    auth_event_record(kind="FAILED", request=request, username=credentials.get("username", ""))
