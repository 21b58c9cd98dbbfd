"""Bearer-token authentication for every API route: the token must be signed, live, unrevoked and its user active."""

from ninja.security import HttpBearer

from api.services import token_find


class BearerToken(HttpBearer):
    openapi_description = "`Authorization: Bearer <token>` with a token from POST /api/v1/auth/login (valid 10 hours)."

    def __call__(self, request):
        # Ninja's own version logs the whole header under DEBUG when the scheme is not Bearer, which puts a token or a
        # base64 user:password in the log. Any other scheme simply leaves the request unauthenticated (401).
        scheme, _, token = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        return self.authenticate(request, token)

    def authenticate(self, request, token):
        record = token_find(token=token)
        if record is None:
            return None
        request.user = record.user
        request.api_token = record
        return record.user
