"""Bearer-token authentication for every API route: the token must be signed, live, unrevoked and its user active."""

from ninja.security import HttpBearer

from api.services import token_find


class BearerToken(HttpBearer):
    openapi_description = "`Authorization: Bearer <token>` with a token from POST /api/v1/auth/login (valid 10 hours)."

    def authenticate(self, request, token):
        record = token_find(token=token)
        if record is None:
            return None
        request.user = record.user
        request.api_token = record
        return record.user
