from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("JSON API")

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from api.services import signaling_close

        def _close_sockets_of_the_session(sender, request, user, **kwargs):
            # Signing out of the console also closes the signaling sockets that this browser session opened.
            if user is not None and request is not None and request.session.session_key:
                signaling_close(user_id=user.pk, session_key=request.session.session_key)

        user_logged_out.connect(_close_sockets_of_the_session, dispatch_uid="api.close_signaling_on_logout")
