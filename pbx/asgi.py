"""ASGI entry point: HTTP through Django, WebSockets through Channels (session-authenticated, origin-checked; see
pbx.websocket_origin for the bearer-token clients that send no Origin)."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbx.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the apps loaded)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from pbx.routing import websocket_urlpatterns  # noqa: E402
from pbx.websocket_origin import OriginOrBearerValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginOrBearerValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# Everything loaded so far (Django, the apps, the routing) lives as long as the server: moved out of the collector's
# sight, a full collection no longer walks it. Walking it took about 150 ms with the GIL held, long enough to be the
# slowest wallboard push of a hundred.
gc.freeze()
