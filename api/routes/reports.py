"""A company's report over days: the report page's figures per day, queue and agent, with time per state."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router

from accounts.models import Role
from api.schemas import responses
from api.schemas_reports import ReportOut, ReportQuery, report_out
from reports.forms import ReportForm
from reports.selectors import company_report

router = Router(tags=["reports"])


@router.get("", response=responses({200: ReportOut}, 401, 403, 404, 422), summary="A company's report over days")
def get_report(request, query: Query[ReportQuery]):
    """Managers get their company's; system admins name the company. The same rules as the report page: at most 92
    days, counted in the company's days."""
    user = request.user
    if user.role == Role.AGENT:
        raise PermissionDenied(_("Only managers and admins see reports."))
    if not user.is_system_admin and query.company_id not in (None, user.company_id):
        raise Http404  # another company's: not there, as far as this manager can tell
    data = {"date_from": query.date_from, "date_to": query.date_to, "company": query.company_id or "",
            "queue": query.queue_id or ""}  # fmt: skip
    form = ReportForm(data, user=user)
    if not form.is_valid():
        api_names = {"company": "company_id", "queue": "queue_id"}
        raise DjangoValidationError(
            {api_names.get(name, name): errors for name, errors in form.errors.as_data().items()}
        )
    return report_out(company_report(**form.choice()))
