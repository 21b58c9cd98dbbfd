"""Which WebSocket handshakes reach the consumers: the origin check, and the one case that needs none.

A browser always sends Origin with a WebSocket handshake, and it sends our cookies whichever site's page opens the
socket. So a socket from a browser must come from a page of ours (Channels' AllowedHostsOriginValidator), or any site
could act as the signed-in user (cross-site WebSocket hijacking).

A client that sends no Origin is not a browser: a desk softphone, a CRM's server. No other site can lead it, so the
check protects nothing there; refusing it only locked those clients out of the signaling socket. Such a client is let
in only on the paths that take a bearer token, and only with one; its cookies are dropped, so the token is the only
way it is known.
"""

from channels.security.websocket import AllowedHostsOriginValidator

from api.signaling import bearer_from_scope

# Paths whose consumer signs a client in by a bearer token (Sec-WebSocket-Protocol "bearer, <token>" or ?token=).
BEARER_PATHS = frozenset({"/ws/signaling"})


def _header(scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value
    return None


def _offers_a_bearer_token(scope) -> bool:
    token, _subprotocol = bearer_from_scope(scope)  # read as the consumer reads it
    return bool(token)


class OriginOrBearerValidator:
    """AllowedHostsOriginValidator, except for a handshake without Origin that brings a bearer token to a path that
    takes one (see the module's docstring)."""

    def __init__(self, application):
        self.application = application
        self.origin_checked = AllowedHostsOriginValidator(application)

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] == "websocket"
            and _header(scope, b"origin") is None
            and scope.get("path") in BEARER_PATHS
            and _offers_a_bearer_token(scope)
        ):
            without_cookies = [(key, value) for key, value in scope["headers"] if key.lower() != b"cookie"]
            return await self.application(dict(scope, headers=without_cookies), receive, send)
        return await self.origin_checked(scope, receive, send)
