"""Shows every time in the signed-in user's company time zone (Asia/Seoul unless the company says otherwise)."""

from django.utils import timezone

from calls.selectors import reader_zone


class CompanyTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(reader_zone(user))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
