"""The NinjaAPI behind /api/v1: its routers, bearer authentication, error shape and OpenAPI document."""

from ninja import NinjaAPI, Swagger

from api.auth import BearerToken
from api.errors import install_error_handlers
from api.routes import (
    abuse_reports,
    auth,
    blocked_numbers,
    business_hours,
    calls,
    companies,
    pause_reasons,
    queues,
    reports,
    users,
)

DESCRIPTION = """
The call center's JSON API for integrations (CRM, wallboards, scripts), with the web console's rules.

* Sign in with `POST /api/v1/auth/login`, then send `Authorization: Bearer <token>` (valid 10 hours, revoked by
  `POST /api/v1/auth/logout`, and refused at once when the user is deactivated).
* Times are ISO 8601 with their company's offset (Asia/Seoul: `+09:00`); enums are their names (`READY`, `ANSWERED`).
* Every error is `{"error": {"code", "message", "fields"}}` with status 400, 401, 403, 404, 405, 409, 413, 422 or 429.

WebRTC signaling is a WebSocket at `/ws/signaling` (not in this document): sign in with the console's session cookie,
the subprotocols `bearer, <token>` or `?token=<token>`; send `{"type": "offer"|"answer"|"ice"|"hangup", "to": <user id>,
"payload": {…}}` and the addressee (an active user of your company) receives it with `"from"` set by the server.
"""

api = NinjaAPI(
    title="PBX call center API",
    version="1.0.0",
    description=DESCRIPTION,
    auth=BearerToken(),
    urls_namespace="api-v1",
    docs=Swagger(settings={"persistAuthorization": False, "validatorUrl": None}),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)
api.add_router("/auth", auth.router)
api.add_router("/users", users.router)
api.add_router("/companies", companies.router)
api.add_router("/calls", calls.router)
api.add_router("/pause-reasons", pause_reasons.router)
api.add_router("/business-hours", business_hours.router)
api.add_router("/queues", queues.router)
api.add_router("/blocked-numbers", blocked_numbers.router)
api.add_router("/abuse-reports", abuse_reports.router)
api.add_router("/reports", reports.router)
