from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from companies.models import Company, PauseReason
from pbx.encryption import blind_index


class PauseReasonInline(admin.TabularInline):
    model = PauseReason
    extra = 0


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "business_number", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    search_help_text = _("Name, or an exact phone, fax or business number.")
    fields = [
        "name", "business_number", "phone", "fax", "address", "time_zone",
        "extension_start", "extension_end", "wrapup_seconds", "record_retention_days", "is_active",
    ]  # fmt: skip
    inlines = [PauseReasonInline]

    def get_search_results(self, request, queryset, search_term):
        """Encrypted numbers are found by their blind index: an exact number, never a fragment."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        index = blind_index(search_term)
        if index:
            for field in ("phone_index", "fax_index", "business_number_index"):
                results |= queryset.filter(**{field: index})
        return results, may_have_duplicates
