import secrets

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import ActivityChange, AuthEvent, User
from accounts.services import roster_changed
from pbx.encryption import blind_index


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "get_full_name",
        "role",
        "company",
        "extension",
        "phone",
        "activity_state",
        "is_active",
    ]
    list_filter = ["role", "company", "activity_state", "is_active"]
    search_fields = ["username", "first_name", "last_name", "extension"]
    search_help_text = _("Username, name, extension, or an exact phone number.")
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Person"), {"fields": ["first_name", "last_name", "email", "phone"]}),
        (_("Role"), {"fields": ["role", "company", "extension", "is_active"]}),
        (
            _("Activity"),
            {"fields": ["activity_state", "activity_changed_at", "pause_reason", "endpoint_online"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["username", "password1", "password2", "role", "company", "extension", "phone"]}),
    ]
    # States change only through the activity service (with its audit log), never by editing the row.
    readonly_fields = ["activity_state", "activity_changed_at", "pause_reason", "endpoint_online", "last_login",
                       "date_joined"]  # fmt: skip

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        index = blind_index(search_term)
        if index:
            results |= queryset.filter(phone_index=index)
        return results, may_have_duplicates

    def save_model(self, request, obj, form, change):
        # An agent given an extension here needs a SIP secret for their phone, as user_create gives one.
        if obj.extension and not obj.sip_secret:
            obj.sip_secret = secrets.token_urlsafe(18)
        previous_company_id = User.objects.filter(pk=obj.pk).values_list("company_id", flat=True).first()
        super().save_model(request, obj, form, change)
        roster_changed(obj, previous_company_id=previous_company_id)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ActivityChange)
class ActivityChangeAdmin(ReadOnlyAdmin):
    list_display = [
        "changed_at",
        "agent",
        "from_state",
        "to_state",
        "pause_reason",
        "source",
        "actor",
        "note",
    ]
    list_filter = ["source", "to_state", "company"]
    search_fields = ["agent__username"]
    date_hierarchy = "changed_at"


@admin.register(AuthEvent)
class AuthEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "username", "ip_address"]
    list_filter = ["kind"]
    search_fields = ["username"]
    date_hierarchy = "at"
