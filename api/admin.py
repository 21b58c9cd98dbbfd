"""API tokens in the Django admin: who holds which, from where, and a revoke action."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from api.models import ApiToken
from api.services import token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "issued_at", "expires_at", "revoked_at", "ip_address")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    date_hierarchy = "issued_at"
    readonly_fields = ("jti", "user", "issued_at", "expires_at", "revoked_at", "ip_address", "user_agent")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        for record in queryset.filter(revoked_at__isnull=True):
            token_revoke(record=record)
