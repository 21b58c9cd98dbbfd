"""View decorators about who may open a page."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _


def role_required(*roles):
    """Signed in (else the sign-in page) and of one of these roles (else 403)."""

    def decorator(view):
        @login_required
        def wrapped(request, *args, **kwargs):
            if request.user.role not in roles:
                raise PermissionDenied(_("This page is not for your role."))
            return view(request, *args, **kwargs)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorator
