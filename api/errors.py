"""The one JSON shape every API error has, and the exceptions that map onto it.

`{"error": {"code": "not_found", "message": "…", "fields": {"extension": ["…"]}}}`: `code` is stable for programs,
`message` is for people (in the request's language), `fields` names the inputs at fault (empty when none is).
"""

import re

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from accounts.services import ActivityChangeRefused


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, *, fields: dict | None = None, headers: dict | None = None
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}


class Conflict(Exception):
    """The request is well formed but clashes with the current state (409); the message says how."""


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


# Pydantic names the member of a union each error is about inside its location (`pause_reason.constrained-int`,
# `.str`, `.list[int]`, `.PauseReasonRef`, `.str-enum[Role]`); a client needs only the field. Our JSON fields are
# snake_case, so any other segment is such a name; so is a bare type name after a field, as none of ours is named so.
_FIELD_SEGMENT = re.compile(r"[a-z_][a-z0-9_]*")
_BARE_TYPE_NAMES = frozenset(
    {"int", "str", "float", "bool", "bytes", "none", "date", "time", "datetime", "timedelta", "decimal", "uuid", "url"}
)


def _is_union_member_name(part, *, follows_a_field: bool) -> bool:
    if not isinstance(part, str):
        return False  # a list index
    return not _FIELD_SEGMENT.fullmatch(part) or (follows_a_field and part in _BARE_TYPE_NAMES)


def _field_name(loc) -> str:
    parts = list(loc)
    # Ninja puts the body under ("body", <parameter name>, field…); query and path under ("query", field).
    if parts and parts[0] == "body":
        parts = parts[2:]
    elif parts and parts[0] in {"query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    path: list[str] = []
    for part in parts:
        if not _is_union_member_name(part, follows_a_field=bool(path)):
            path.append(str(part))
    return ".".join(path) or "body"


# Pydantic writes its messages in English only; these are the ones clients meet, by error type, in the request's
# language (the ctx values fill the placeholders). Any other type keeps pydantic's own message.
_PYDANTIC_MESSAGES = {
    "missing": gettext_lazy("This field is required."),
    "string_type": gettext_lazy("Must be text."),
    "string_too_short": gettext_lazy("At least %(min_length)s characters."),
    "string_too_long": gettext_lazy("At most %(max_length)s characters."),
    "string_pattern_mismatch": gettext_lazy("Not in the expected format."),
    "int_type": gettext_lazy("Must be a whole number."),
    "int_parsing": gettext_lazy("Must be a whole number."),
    "int_from_float": gettext_lazy("Must be a whole number."),
    "bool_type": gettext_lazy("Must be true or false."),
    "bool_parsing": gettext_lazy("Must be true or false."),
    "greater_than": gettext_lazy("Must be more than %(gt)s."),
    "greater_than_equal": gettext_lazy("Must be at least %(ge)s."),
    "less_than": gettext_lazy("Must be less than %(lt)s."),
    "less_than_equal": gettext_lazy("Must be at most %(le)s."),
    "enum": gettext_lazy("Must be one of %(expected)s."),
    "literal_error": gettext_lazy("Must be one of %(expected)s."),
    "date_from_datetime_parsing": gettext_lazy("Must be a date written YYYY-MM-DD."),
    "date_parsing": gettext_lazy("Must be a date written YYYY-MM-DD."),
    "list_type": gettext_lazy("Must be a list."),
    "model_type": gettext_lazy("Must be an object."),
    "extra_forbidden": gettext_lazy("Not a field of this request."),
}


def _message(error: dict) -> str:
    kind, context = error.get("type"), error.get("ctx") or {}
    if kind == "value_error" and "error" in context:
        return _(str(context["error"]))  # our own validators' messages (gettext_noop in api/schemas.py)
    if kind in _PYDANTIC_MESSAGES:
        try:
            return str(_PYDANTIC_MESSAGES[kind]) % {key: str(value) for key, value in context.items()}
        except (KeyError, TypeError, ValueError):
            pass
    return str(error.get("msg", ""))


def fields_from_ninja(errors: list[dict]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in errors:
        messages = fields.setdefault(_field_name(error.get("loc", ())), [])
        message = _message(error)
        if message not in messages:  # two members of a union can fail for the same reason
            messages.append(message)
    return fields


def fields_from_django(error: DjangoValidationError, *, default_field: str = "body") -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            (default_field if name == NON_FIELD_ERRORS else name): [str(m) for m in messages]
            for name, messages in error.message_dict.items()
        }
    return {default_field: [str(m) for m in error.messages]}


def install_error_handlers(api) -> None:
    """Every failure the API can meet, answered in the one shape with its proper status."""

    def respond(request, status, code, message, fields=None, headers=None):
        response = api.create_response(request, error_body(code, message, fields), status=status)
        for name, value in (headers or {}).items():
            response[name] = value
        return response

    @api.exception_handler(ApiError)
    def _api_error(request, exc: ApiError):
        return respond(request, exc.status, exc.code, exc.message, exc.fields, exc.headers)

    @api.exception_handler(NinjaValidationError)
    def _invalid_input(request, exc: NinjaValidationError):
        fields = fields_from_ninja(exc.errors)
        return respond(request, 422, "validation_error", _("Some fields are not valid."), fields)

    @api.exception_handler(DjangoValidationError)
    def _invalid_model(request, exc: DjangoValidationError):
        return respond(request, 422, "validation_error", _("Some fields are not valid."), fields_from_django(exc))

    @api.exception_handler(AuthenticationError)
    def _not_authenticated(request, exc):
        return respond(
            request,
            401,
            "not_authenticated",
            _("A valid bearer token is needed (Authorization: Bearer <token>)."),
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )

    @api.exception_handler(HttpError)
    def _http_error(request, exc: HttpError):
        # Ninja raises this for a body that is not JSON at all (400).
        code = "malformed_request" if exc.status_code == 400 else "error"
        message = _("The request body is not valid JSON.") if exc.status_code == 400 else str(exc)
        return respond(request, exc.status_code, code, message)

    @api.exception_handler(RequestDataTooBig)
    def _body_too_big(request, exc):
        # Django refuses to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE; left to Django that is an HTML 400 (or,
        # under DEBUG, ninja's plain-text 500).
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return respond(
            request,
            413,
            "payload_too_large",
            _("The request body is too large: at most %(limit)s bytes.") % {"limit": f"{limit:,}"},
        )

    @api.exception_handler(PermissionDenied)
    def _forbidden(request, exc):
        return respond(request, 403, "permission_denied", str(exc) or _("You may not do this."))

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        return respond(request, 404, "not_found", _("Not found."))

    @api.exception_handler(Conflict)
    def _conflict(request, exc):
        return respond(request, 409, "conflict", str(exc))

    @api.exception_handler(ActivityChangeRefused)
    def _activity_refused(request, exc):
        return respond(request, 409, "activity_change_refused", str(exc))
