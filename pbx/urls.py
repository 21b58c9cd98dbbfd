from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

from pbx import views
from telephony.health import healthz

admin.site.site_header = _("PBX administration")
admin.site.site_title = _("PBX admin")


def _admin_login(request):
    return redirect(f"{reverse('accounts:login')}?{request.GET.urlencode()}")


urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("console/", include("console.urls")),
    path("calls/", include("calls.urls")),
    path("companies/", include("companies.urls")),
    path("reports/", include("reports.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    # Django admin's own sign-in form knows nothing of the login rate limit: every sign-in goes through ours.
    path("admin/login/", _admin_login),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("healthz", healthz, name="healthz"),
]
