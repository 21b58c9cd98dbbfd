"""The landing page: each role goes to its own home."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def home(request):
    """Agents land on their console, managers and admins on the wallboard."""
    return redirect("console:agent" if request.user.is_agent else "console:wallboard")
