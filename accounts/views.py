"""Sign in and out of the console and admin (session-based, rate limited), and change one's own password."""

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import OwnPasswordChangeForm, SignInForm
from accounts.security import auth_event_record, login_failed, login_is_rate_limited
from accounts.services import user_set_password


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "home"


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.method == "GET":
        if request.user.is_authenticated:
            return redirect("home")
        form = SignInForm(request)
        return render(request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")})

    if login_is_rate_limited(request):
        auth_event_record(kind="RATE_LIMITED", request=request, username=request.POST.get("username", ""))
        # An unbound form (nothing is checked while limited); the message says nothing about whether the account exists.
        form = SignInForm(request, initial={"username": request.POST.get("username", "")})
        context = {
            "form": form,
            "next": request.POST.get("next", ""),
            "limit_message": _("Too many sign-in attempts. Wait a minute and try again."),
        }
        return render(request, "accounts/login.html", context, status=429)

    form = SignInForm(request, data=request.POST)
    if form.is_valid():
        login(request, form.get_user())
        return redirect(_next_url(request))
    login_failed(request)
    return render(request, "accounts/login.html", {"form": form, "next": request.POST.get("next", "")}, status=400)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("accounts:login")


@sensitive_post_parameters("current", "password1", "password2")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def password_change_view(request):
    """Any signed-in user's own password. A wrong current password counts as a failed sign-in of that username, so
    this form gives no more guesses than the sign-in form does. The new password signs the user out everywhere else
    (sessions, API tokens, sockets); this session stays signed in."""
    user = request.user
    if request.method == "POST" and login_is_rate_limited(request, username=user.get_username()):
        limit_message = _("Too many wrong passwords. Wait a minute and try again.")
        context = {"form": OwnPasswordChangeForm(user=user), "limit_message": limit_message}
        return render(request, "accounts/password.html", context, status=429)
    form = OwnPasswordChangeForm(request.POST or None, user=user)
    if request.method == "GET":
        return render(request, "accounts/password.html", {"form": form})
    if not form.is_valid():
        if form.has_error("current", "wrong_current"):
            login_failed(request, username=user.get_username())
        return render(request, "accounts/password.html", {"form": form}, status=400)
    with transaction.atomic():
        user_set_password(user=user, password=form.cleaned_data["password1"])
        # In the same transaction: the sockets told after the commit find this session already on the new password.
        update_session_auth_hash(request, user)
    messages.success(request, _("Your password is changed. You are signed out everywhere else."))
    return redirect("home")
