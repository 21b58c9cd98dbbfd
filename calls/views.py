"""The call log: filters, keyset pages, a call's detail with its timeline and note, and the filtered set as streamed
CSV."""

import csv

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from calls import selectors
from calls.forms import CallFilterForm
from calls.forms_blocking import BlockForm
from calls.models import NOTE_MAX_CHARS, AbuseReport, CallState, Direction, Disposition
from calls.selectors_blocking import call_number_blocked
from calls.services_notes import call_note_save
from pbx.keyset_cursor import InvalidCursor
from pbx.spreadsheet import spreadsheet_safe

PAGE_SIZE = 50
EXPORT_CHUNK = 2000


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a streaming response."""

    def write(self, value):
        return value


def _label_rows(calls) -> None:
    """Each row's labels, looked up in dictionaries translated once per page: get_FOO_display() rebuilds its choices,
    translating every label, for each call and field."""
    labels = {
        name: {value: str(label) for value, label in choices.choices}
        for name, choices in (("direction", Direction), ("disposition", Disposition), ("state", CallState))
    }
    for call in calls:
        call.direction_label = labels["direction"].get(call.direction, call.direction)
        call.result_label = labels["disposition"].get(call.disposition, call.disposition) if call.disposition else ""
        call.state_label = labels["state"].get(call.state, call.state)


def _form(request) -> CallFilterForm:
    return CallFilterForm(request.GET or None, user=request.user)


@require_GET
@vary_on_headers("HX-Request")
@login_required
def call_log(request):
    form = _form(request)
    page = None
    cursor_error = ""
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        status = 200
        filters = form.filters() if form.is_bound else selectors.CallFilters()
        try:
            page = selectors.calls_page(
                user=request.user, filters=filters, cursor=request.GET.get("after", ""), limit=PAGE_SIZE
            )
        except InvalidCursor:
            if request.htmx and request.GET.get("after"):
                # "Older calls" appends to the rows shown: the first page again would list them twice. (200: htmx
                # swaps in only successful answers.)
                message = _("That page link is no longer valid: reload the call log.")
                return render(request, "calls/log.html#stale-more-row", {"message": message})
            cursor_error = _("That page link is no longer valid; showing the first page.")
            page = selectors.calls_page(user=request.user, filters=filters, limit=PAGE_SIZE)
    if page is not None:
        _label_rows(page.calls)
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "cursor_error": cursor_error,
        # reverse() once per page rather than once per row
        "detail_prefix": reverse("calls:detail", args=[0]).removesuffix("0/"),
    }
    template = "calls/log.html#call-rows" if request.htmx and request.GET.get("after") else "calls/log.html"
    return render(request, template, context, status=status)


@require_GET
@login_required
def call_detail(request, call_id: int):
    return _detail_page(request, _visible_call(request, call_id))


def _visible_call(request, call_id: int):
    call = selectors.call_detail(user=request.user, call_id=call_id)
    if call is None:
        raise Http404(_("No such call."))
    return call


def _detail_page(request, call, *, note=None, note_error="", status=200):
    return render(
        request,
        "calls/detail.html",
        {
            "call": call,
            "events": selectors.call_timeline(call=call),
            "offers": selectors.call_offers(call=call),
            "callbacks": list(call.callbacks.all().select_related("agent")),
            "note": selectors.call_note_text(call=call) if note is None else note,
            "note_error": note_error,
            "note_max": NOTE_MAX_CHARS,
            "blocked": call_number_blocked(call) if request.user.role != "AGENT" else None,
            "block_form": BlockForm(with_number=False),
            "abuse_report": AbuseReport.objects.filter(call=call).first(),
        },
        status=status,
    )


@require_POST
@login_required
def call_note(request, call_id: int):
    """Save the call's note; a text that cannot be saved comes back in the form with the reason, not lost."""
    call = _visible_call(request, call_id)
    text = request.POST.get("text", "")
    try:
        call_note_save(call=call, text=text, by=request.user)
    except ValidationError as error:
        return _detail_page(request, call, note=text, note_error=" ".join(error.messages), status=400)
    messages.success(request, _("The note is saved."))
    return redirect("calls:detail", call_id=call.pk)


def _csv_header() -> list[str]:
    return [
        _("Call"),
        _("Started"),
        _("Answered"),
        _("Ended"),
        _("Direction"),
        _("Caller"),
        _("Caller name"),
        _("Dialed"),
        _("Queue"),
        _("Agent"),
        _("State"),
        _("Result"),
        _("Wait (s)"),
        _("Talk (s)"),
        _("Wrap-up (s)"),
        _("Hung up by"),
        _("Callback of"),
        _("Note"),
    ]


def _csv_row(call, zone, note: str = "") -> list:
    def at(moment):
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if moment else ""

    def seconds(value):
        return f"{value:.0f}" if value is not None else ""

    row = [
        call.pk,
        at(call.enqueued_at),
        at(call.answered_at),
        at(call.ended_at),
        call.get_direction_display(),
        call.caller_number,
        call.caller_name,
        call.dialed_number,
        call.queue.name if call.queue else "",
        str(call.agent) if call.agent else "",
        call.get_state_display(),
        call.get_disposition_display() if call.disposition else "",
        seconds(call.wait_seconds),
        seconds(call.talk_seconds),
        seconds(call.wrapup_seconds),
        call.get_hangup_by_display() if call.hangup_by else "",
        call.callback_of_id or "",
        note,
    ]
    return [spreadsheet_safe(value) for value in row]


def _csv_chunk(*, user, filters, cursor: str, zone, language: str) -> tuple[str, str | None]:
    """One keyset page as CSV text; a page at a time keeps memory flat and needs no server-side cursor."""
    page = selectors.calls_page(user=user, filters=filters, cursor=cursor, limit=EXPORT_CHUNK)
    notes = selectors.call_notes(calls=page.calls)  # one query a page, not one a row
    writer = csv.writer(_Echo())
    with translation.override(language):
        text = "".join(writer.writerow(_csv_row(call, zone, notes.get(call.pk, ""))) for call in page.calls)
    return text, page.next_cursor


async def _csv_stream(*, user, filters, zone, language):
    writer = csv.writer(_Echo())
    with translation.override(language):
        # The BOM makes spreadsheet programs read the Korean text as UTF-8.
        yield "\ufeff" + writer.writerow(_csv_header())
    cursor = ""
    while True:
        text, cursor = await sync_to_async(_csv_chunk)(
            user=user, filters=filters, cursor=cursor, zone=zone, language=language
        )
        if text:
            yield text
        if not cursor:
            return


@require_GET
@login_required
def call_export(request):
    form = _form(request)
    if form.is_bound and not form.is_valid():
        return render(request, "calls/log.html", {"form": form, "page": None, "query": ""}, status=400)
    filters = form.filters() if form.is_bound else selectors.CallFilters()
    stream = _csv_stream(
        user=request.user,
        filters=filters,
        zone=timezone.get_current_timezone(),
        language=translation.get_language(),
    )
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="calls-{stamp}.csv"'
    return response
