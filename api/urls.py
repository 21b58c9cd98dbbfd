"""/api/v1/…: the API, and JSON errors for the two answers ninja leaves to Django (unknown path, wrong method)."""

import functools

from django.http import JsonResponse
from django.urls import path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from api.errors import error_body
from api.site import api


@csrf_exempt  # a POST to a route that does not exist gets the JSON 404, not the CSRF failure page
def unknown_route(request, rest=""):
    return JsonResponse(error_body("not_found", _("There is no such API route.")), status=404)


def _json_method_not_allowed(view):
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405:
            allowed = response.get("Allow", "")
            response = JsonResponse(
                error_body(
                    "method_not_allowed", _("This route does not answer %(method)s.") % {"method": request.method}
                ),
                status=405,
            )
            response["Allow"] = allowed
        return response

    wrapped.csrf_exempt = True
    return wrapped


_patterns, _app_name, _namespace = api.urls
for _pattern in _patterns:
    if _pattern.name == "api-root":
        # Ninja needs this pattern to reverse the API's prefix, but its view answers /api/v1/ with Django's HTML 404.
        _pattern.callback = unknown_route
    else:
        _pattern.callback = _json_method_not_allowed(_pattern.callback)

urlpatterns = [
    path("", (_patterns, _app_name, _namespace)),
    re_path(r"^(?P<rest>.*)$", unknown_route),
]
