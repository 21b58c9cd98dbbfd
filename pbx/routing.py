"""WebSocket routes; each app adds its consumers here."""

websocket_urlpatterns: list = []

# WebRTC signaling between users of one company (api.signaling).
from api.routing import websocket_urlpatterns as api_websocket_urlpatterns  # noqa: E402

websocket_urlpatterns += api_websocket_urlpatterns

# The web console's live panels (console.consumers).
from console.routing import websocket_urlpatterns as console_websocket_urlpatterns  # noqa: E402

websocket_urlpatterns += console_websocket_urlpatterns
