"""Users for managers (their company's agents) and system admins (everyone): list, create, edit, disable, reset."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import PasswordResetForm, UserCreateForm, UserEditForm
from accounts.models import Role, User
from accounts.services import ActivityChangeRefused, user_create, user_set_password
from accounts.services_users import user_set_active, user_update


def _manageable(request):
    """Managers manage their company's agents; admins every user. Agents manage no one."""
    user = request.user
    if user.is_system_admin:
        return User.objects.all()
    if user.role == Role.MANAGER:
        return User.objects.visible_to(user).agents()
    raise PermissionDenied(_("Only managers and admins manage users."))


@login_required
def user_list(request):
    users = _manageable(request).select_related("company").order_by("company__name", "role", "username")
    show = request.GET.get("show", "active")
    if show == "active":
        users = users.filter(is_active=True)
    elif show == "disabled":
        users = users.filter(is_active=False)
    return render(request, "accounts/users.html", {"users": users, "show": show})


@login_required
def user_new(request):
    _manageable(request)
    form = UserCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        admin = request.user.is_system_admin
        user = user_create(
            username=data["username"],
            password=data["password1"],
            role=data["role"] if admin else Role.AGENT,
            company=data.get("company") if admin else request.user.company,
            extension=data.get("extension") or None,
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            email=data.get("email", ""),
            phone=data.get("phone", ""),
            validate=False,  # the form validated the password already, with its field error
        )
        messages.success(request, _("User %(name)s created.") % {"name": user.username})
        return redirect("accounts:users")
    return render(request, "accounts/user_form.html", {"form": form}, status=400 if request.method == "POST" else 200)


@login_required
def user_edit(request, user_id: int):
    target = get_object_or_404(_manageable(request), pk=user_id)
    form = UserEditForm(request.POST or None, instance=target, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {name: data[name] for name in ("first_name", "last_name", "email", "phone")}
        fields["extension"] = data.get("extension") or None
        if request.user.is_system_admin:
            fields["role"], fields["company"] = data["role"], data.get("company")
        try:
            user_update(user=User.objects.get(pk=target.pk), **fields)
        except ActivityChangeRefused as refused:
            form.add_error("role" if "role" in form.fields else None, str(refused))
        else:
            messages.success(request, _("User %(name)s saved.") % {"name": target.username})
            return redirect("accounts:users")
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "target": User.objects.get(pk=target.pk), "password_form": PasswordResetForm(user=target)},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@login_required
def user_toggle_active(request, user_id: int):
    target = get_object_or_404(_manageable(request), pk=user_id)
    if target.pk == request.user.pk:
        messages.error(request, _("You cannot disable yourself."))
        return redirect("accounts:users")
    try:
        user_set_active(user=target, active=not target.is_active, by=request.user)
    except ActivityChangeRefused as refused:
        messages.error(request, str(refused))
    else:
        if target.is_active:
            messages.success(request, _("%(name)s is disabled.") % {"name": target.username})
        else:
            messages.success(request, _("%(name)s is enabled again.") % {"name": target.username})
    return redirect("accounts:users")


@require_POST
@login_required
def user_reset_password(request, user_id: int):
    target = get_object_or_404(_manageable(request), pk=user_id)
    form = PasswordResetForm(request.POST, user=target)
    if form.is_valid():
        user_set_password(user=target, password=form.cleaned_data["password1"])
        messages.success(request, _("The password of %(name)s is changed.") % {"name": target.username})
        return redirect("accounts:users")
    return render(
        request,
        "accounts/user_form.html",
        {"form": UserEditForm(instance=target, actor=request.user), "target": target, "password_form": form},
        status=400,
    )
