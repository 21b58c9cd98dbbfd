"""The API's WebSocket routes (mounted by pbx.routing)."""

from django.urls import path

from api.signaling import SignalingConsumer

websocket_urlpatterns = [
    path("ws/signaling", SignalingConsumer.as_asgi()),
]
