"""Users, scoped by role and company: admins see everyone, managers their company, agents themselves."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404
from ninja import Field, Path, Query, Router, Schema, Status

from accounts.models import Role, User
from api.schemas import Id, QueryBool, QueryInt, UserCreateIn, UserOut, UserPage, UserPatchIn, responses, text, user_out
from api.schemas_reports import ActivityDayOut, ActivityDayQuery, activity_day_out
from api.services import user_create_by, user_deactivate, user_update
from reports.forms import DayForm
from reports.selectors import agent_day, company_today

router = Router(tags=["users"])


class UserQuery(Schema):
    role: Role | None = None
    company_id: Id | None = None
    is_active: QueryBool | None = None
    search: text(150, min_length=1) | None = Field(default=None, description="Part of the username or name.")
    limit: QueryInt = Field(default=50, ge=1, le=200)
    offset: QueryInt = Field(default=0, ge=0, le=1_000_000)


def _visible(request):
    return User.objects.visible_to(request.user).select_related("company", "pause_reason")


@router.get("", response=responses({200: UserPage}, 401, 422), summary="List users")
def list_users(request, filters: Query[UserQuery]):
    users = _visible(request).order_by("username", "id")
    if filters.role:
        users = users.filter(role=filters.role)
    if filters.company_id is not None:
        users = users.filter(company_id=filters.company_id)
    if filters.is_active is not None:
        users = users.filter(is_active=filters.is_active)
    if filters.search:
        term = filters.search.strip()
        users = users.filter(Q(username__icontains=term) | Q(first_name__icontains=term) | Q(last_name__icontains=term))
    total = users.count()
    page = users[filters.offset : filters.offset + filters.limit]
    return {"items": [user_out(u) for u in page], "total": total, "limit": filters.limit, "offset": filters.offset}


@router.post("", response=responses({201: UserOut}, 400, 401, 403, 409, 422), summary="Create a user")
def create_user(request, payload: UserCreateIn):
    """Admins create anyone; managers create agents in their own company."""
    user = user_create_by(
        actor=request.user,
        username=payload.username,
        password=payload.password,
        role=payload.role,
        company_id=payload.company_id,
        extension=payload.extension,
        first_name=payload.first_name,
        last_name=payload.last_name,
        email=payload.email,
        phone=payload.phone,
    )
    return Status(201, user_out(user))


@router.get("/{user_id}", response=responses({200: UserOut}, 401, 404, 422), summary="Get a user")
def get_user(request, user_id: Path[Id]):
    return user_out(get_object_or_404(_visible(request), pk=user_id))


@router.patch("/{user_id}", response=responses({200: UserOut}, 400, 401, 403, 404, 409, 422), summary="Change a user")
def patch_user(request, user_id: Path[Id], payload: UserPatchIn):
    """Only the fields sent change; `is_active: false` deactivates (signs the user out everywhere)."""
    user = get_object_or_404(_visible(request), pk=user_id)
    user = user_update(actor=request.user, user=user, changes=payload.model_dump(exclude_unset=True))
    return user_out(User.objects.select_related("company", "pause_reason").get(pk=user.pk))


@router.delete("/{user_id}", response=responses({200: UserOut}, 401, 403, 404, 409, 422), summary="Deactivate a user")
def delete_user(request, user_id: Path[Id]):
    """Deactivates the user (history keeps their name): tokens revoked, sessions and sockets refused at once."""
    user = get_object_or_404(_visible(request), pk=user_id)
    user = user_deactivate(actor=request.user, user=user)
    return user_out(User.objects.select_related("company", "pause_reason").get(pk=user.pk))


@router.get(
    "/{user_id}/activity",
    response=responses({200: ActivityDayOut}, 401, 404, 422),
    summary="An agent's day of state changes",
)
def get_activity_day(request, user_id: Path[Id], query: Query[ActivityDayQuery]):
    """Each change of the day with how long its state lasted, the state the day began in, and the day's time per
    state: managers for their company's agents, admins for anyone's, an agent for their own."""
    agent = get_object_or_404(_visible(request).agents(), pk=user_id)
    form = DayForm({"day": query.day or company_today(agent.company)})
    if not form.is_valid():
        raise DjangoValidationError(form.errors.as_data())
    return activity_day_out(agent_day(agent=agent, day=form.cleaned_data["day"]))
