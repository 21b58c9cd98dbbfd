from django.contrib import admin

from accounts.admin import ReadOnlyAdmin
from calls.models import AbuseReport, BlockedCaller, BusinessHours, Call, CallEvent, CallNote, ClosedDay, Offer, Queue
from pbx.encryption import blind_index


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "number", "company", "ring_timeout_seconds", "wrapup_seconds", "max_wait_seconds",
                    "overflow_queue", "business_hours"]  # fmt: skip
    list_select_related = ["company", "overflow_queue", "business_hours"]
    list_filter = ["company"]
    filter_horizontal = ["members"]


class ClosedDayInline(admin.TabularInline):
    model = ClosedDay
    extra = 1


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "monday", "saturday", "sunday"]
    list_filter = ["company"]
    inlines = [ClosedDayInline]


class OfferInline(admin.TabularInline):
    model = Offer
    extra = 0
    can_delete = False
    readonly_fields = [
        "agent",
        "channel_id",
        "offered_at",
        "answered_at",
        "ended_at",
        "result",
        "hangup_cause",
    ]
    exclude = ["company"]


class CallEventInline(admin.TabularInline):
    model = CallEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "kind", "channel_id", "detail"]
    exclude = ["key"]


class CallNoteInline(admin.StackedInline):
    """Read here; written by the agents and managers on the call's page, where who may write it is decided."""

    model = CallNote
    extra = 0
    can_delete = False
    readonly_fields = ["text", "updated_at", "updated_by"]


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = [
        "enqueued_at",
        "company",
        "caller_number",
        "dialed_number",
        "queue",
        "agent",
        "disposition",
    ]
    list_filter = ["disposition", "direction", "company"]
    search_fields = ["dialed_number"]
    search_help_text = "Dialed number, or an exact caller number."
    date_hierarchy = "enqueued_at"
    inlines = [CallNoteInline, OfferInline, CallEventInline]

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        index = blind_index(search_term)
        if index:
            results |= queryset.filter(caller_number_index=index)
        return results, may_have_duplicates


@admin.register(BlockedCaller)
class BlockedCallerAdmin(admin.ModelAdmin):
    list_display = ["company", "reason", "blocked_by", "blocked_at", "until"]
    list_filter = ["company"]
    fields = ["company", "number", "reason", "until", "blocked_by", "blocked_at"]
    readonly_fields = ["blocked_by", "blocked_at"]


@admin.register(AbuseReport)
class AbuseReportAdmin(ReadOnlyAdmin):
    list_display = ["call", "company", "reported_by", "reported_at", "outcome", "handled_by"]
    list_filter = ["company", "outcome"]
