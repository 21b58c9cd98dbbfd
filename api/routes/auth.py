"""Sign in for a bearer token, sign out (revoke it), who am I, and my activity state."""

from ninja import Router, Status

from api.schemas import ActivityIn, LoginIn, LoginOut, UserOut, local, responses, user_out, zone_of
from api.services import login_with_password, logout_token, my_activity_change

router = Router(tags=["auth"])


@router.post(
    "/login", auth=None, response=responses({200: LoginOut}, 400, 401, 422, 429), summary="Sign in for a bearer token"
)
def login(request, payload: LoginIn):
    """A bearer token for a username and password (5 tries a minute per client address and per username)."""
    issued = login_with_password(request=request, username=payload.username, password=payload.password)
    return {
        "token": issued.token,
        "token_type": "Bearer",
        "expires_at": local(issued.record.expires_at, zone_of(issued.record.user.company)),
        "user": user_out(issued.record.user),
    }


@router.post("/logout", response=responses({204: None}, 401), summary="Sign out (revoke this token)")
def logout(request):
    """Revokes the token this request carries; it stops working at once."""
    logout_token(request=request, record=request.api_token)
    return Status(204, None)


@router.get("/me", response=responses({200: UserOut}, 401), summary="Who am I")
def me(request):
    """The user the token belongs to."""
    return user_out(request.user)


@router.patch("/activity", response=responses({200: UserOut}, 400, 401, 409, 422), summary="Change my activity state")
def change_activity(request, payload: ActivityIn):
    """Change my activity state under the console's rules (AWAY needs a pause reason of my company)."""
    user = my_activity_change(
        user=request.user, state=payload.state, pause_reason=payload.pause_reason, note=payload.note
    )
    return user_out(user)
