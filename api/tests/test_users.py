"""/api/v1/users: every route for each role, in its own company and another one."""

import pytest

from accounts.models import Role, User
from accounts.states import ActivityState
from api.tests.conftest import error_code
from companies.models import Company
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-and-unusual-passphrase-7"
SECRET_KEYS = {"password", "sip_secret", "phone_index", "is_staff", "is_superuser"}


@pytest.fixture
def everyone(admin_user, manager_a, agent_a, manager_b, agent_b):
    return {"admin": admin_user, "manager_a": manager_a, "agent_a": agent_a, "manager_b": manager_b, "agent_b": agent_b}


@pytest.fixture
def second_manager_a(make_user, company_a):
    """Another manager of manager_a's company: a peer, whom manager_a must not be able to take over."""
    return make_user(role=Role.MANAGER, company=company_a, username="manager_a2")


def usernames(response):
    return {user["username"] for user in response.json()["items"]}


# --- GET /users -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reader", "expected"),
    [
        ("admin", {"root", "manager_a", "agent_a", "manager_b", "agent_b"}),
        ("manager_a", {"manager_a", "agent_a"}),
        ("agent_a", {"agent_a"}),
        ("manager_b", {"manager_b", "agent_b"}),
    ],
)
def test_user_list_shows_what_the_role_may_see(everyone, api_as, reader, expected):
    response = api_as(everyone[reader]).get("users")

    assert response.status_code == 200
    assert usernames(response) == expected
    assert response.json()["total"] == len(expected)


def test_user_list_filters_by_role_and_search_and_pages(everyone, api_as):
    client = api_as(everyone["admin"])

    agents = client.get("users", role="AGENT")
    searched = client.get("users", search="_b")
    first_page = client.get("users", limit=2, offset=0)
    second_page = client.get("users", limit=2, offset=2)

    assert usernames(agents) == {"agent_a", "agent_b"}
    assert usernames(searched) == {"manager_b", "agent_b"}
    assert first_page.json()["total"] == 5
    assert usernames(first_page).isdisjoint(usernames(second_page))


def test_user_json_never_carries_secrets_and_shows_the_agents_activity(everyone, api_as):
    agent_a = everyone["agent_a"]
    User.objects.filter(pk=agent_a.pk).update(phone="010-7777-8888")

    body = api_as(everyone["manager_a"]).get(f"users/{agent_a.pk}").json()

    assert SECRET_KEYS.isdisjoint(body)
    assert body["phone"] == "010-7777-8888"
    assert body["activity"]["state"] == "READY" and body["activity"]["since"].endswith("+09:00")
    assert body["extension"] == "1000" and body["company_id"] == agent_a.company_id


# --- GET /users/{id} --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reader", "target", "status"),
    [
        ("admin", "agent_b", 200),
        ("manager_a", "agent_a", 200),
        ("manager_a", "agent_b", 404),
        ("manager_a", "admin", 404),
        ("agent_a", "agent_a", 200),
        ("agent_a", "manager_a", 404),
        ("agent_b", "agent_a", 404),
    ],
)
def test_one_user_is_shown_only_to_who_may_see_them(everyone, api_as, reader, target, status):
    response = api_as(everyone[reader]).get(f"users/{everyone[target].pk}")

    assert response.status_code == status


def test_unknown_and_out_of_range_user_ids(everyone, api_as):
    client = api_as(everyone["admin"])

    assert client.get("users/987654").status_code == 404
    assert client.get(f"users/{2**70}").status_code == 422
    assert client.get("users/0").status_code == 422
    assert client.get("users/abc").status_code == 422


# --- POST /users ------------------------------------------------------------------------------------------------


def new_user(**fields):
    return {"username": "new_person", "password": NEW_PASSWORD, "role": "AGENT", **fields}


def test_manager_creates_an_agent_in_their_own_company(everyone, api_as):
    response = api_as(everyone["manager_a"]).post("users", new_user(extension="1500", phone="010-1234-0000"))

    assert response.status_code == 201
    body = response.json()
    assert body["company_id"] == everyone["manager_a"].company_id
    assert body["role"] == "AGENT" and body["extension"] == "1500" and body["phone"] == "010-1234-0000"
    created = User.objects.get(username="new_person")
    assert created.check_password(NEW_PASSWORD) and created.sip_secret


@pytest.mark.parametrize("role", ["MANAGER", "SYSTEM_ADMIN"])
def test_a_manager_creates_no_managers_nor_admins(everyone, api_as, role):
    response = api_as(everyone["manager_a"]).post("users", new_user(role=role))

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert not User.objects.filter(username="new_person").exists()


def test_manager_cannot_create_users_in_another_company(everyone, api_as):
    other = everyone["manager_b"].company_id

    response = api_as(everyone["manager_a"]).post("users", new_user(company_id=other))

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert not User.objects.filter(username="new_person").exists()


def test_manager_cannot_create_an_admin(everyone, api_as):
    response = api_as(everyone["manager_a"]).post("users", new_user(role="SYSTEM_ADMIN"))

    assert response.status_code == 403


@pytest.mark.parametrize("creator", ["agent_a", "agent_b"])
def test_agents_cannot_create_users(everyone, api_as, creator):
    response = api_as(everyone[creator]).post("users", new_user())

    assert response.status_code == 403


def test_admin_creates_an_admin_without_a_company_and_an_agent_in_any_company(everyone, api_as):
    client = api_as(everyone["admin"])

    admin = client.post("users", new_user(username="root2", role="SYSTEM_ADMIN"))
    agent = client.post("users", new_user(username="b_agent", company_id=everyone["agent_b"].company_id))

    assert (admin.status_code, admin.json()["company_id"], admin.json()["activity"]) == (201, None, None)
    assert (agent.status_code, agent.json()["company_id"]) == (201, everyone["agent_b"].company_id)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"company_id": None}, "company_id"),
        ({"company_id": 987654}, "company_id"),
        ({"role": "SYSTEM_ADMIN", "company_id": "OWN"}, "company_id"),
        ({"password": "12345678901"}, "password"),
        ({"password": "new_person"}, "password"),
        ({"username": "agent_a"}, "username"),
        ({"extension": "1000"}, "extension"),
        ({"extension": "12a"}, "extension"),
        ({"email": "not-an-address"}, "email"),
        ({"role": "OWNER"}, "role"),
        ({"username": "nul\u0000name"}, "username"),
    ],
)
def test_admin_creating_an_invalid_user_gets_field_errors(everyone, api_as, fields, field):
    if fields.get("company_id") == "OWN":
        fields["company_id"] = everyone["agent_a"].company_id
    fields.setdefault("company_id", everyone["agent_a"].company_id)

    response = api_as(everyone["admin"]).post("users", new_user(**fields))

    assert response.status_code == 422, response.json()
    assert field in response.json()["error"]["fields"]
    assert User.objects.count() == 5


# --- PATCH /users/{id} ------------------------------------------------------------------------------------------


def test_manager_renames_an_agent_of_their_company(everyone, api_as):
    agent_a = everyone["agent_a"]

    response = api_as(everyone["manager_a"]).patch(f"users/{agent_a.pk}", {"first_name": "지민", "last_name": "김"})

    assert response.status_code == 200
    assert response.json()["first_name"] == "지민"
    assert User.objects.get(pk=agent_a.pk).extension == "1000"  # fields not sent are kept


@pytest.mark.parametrize(
    ("editor", "target", "status"),
    [
        ("manager_a", "agent_b", 404),
        ("manager_b", "agent_a", 404),
        ("agent_a", "agent_a", 403),
        ("agent_b", "agent_a", 404),
        ("admin", "agent_b", 200),
        ("admin", "manager_a", 200),
        ("manager_a", "manager_a", 200),
        ("manager_a", "second_manager_a", 403),
    ],
)
def test_who_may_edit_whom(everyone, second_manager_a, api_as, editor, target, status):
    everyone["second_manager_a"] = second_manager_a

    response = api_as(everyone[editor]).patch(f"users/{everyone[target].pk}", {"first_name": "X"})

    assert response.status_code == status
    assert (User.objects.get(pk=everyone[target].pk).first_name == "X") == (status == 200)


@pytest.mark.parametrize(
    "changes",
    [{"password": NEW_PASSWORD}, {"is_active": False}, {"extension": "1700"}, {"email": "peer@example.com"}],
)
def test_a_manager_cannot_take_over_another_manager_of_their_company(everyone, second_manager_a, api_as, changes):
    client = api_as(everyone["manager_a"])

    patched = client.patch(f"users/{second_manager_a.pk}", changes)
    deleted = client.delete(f"users/{second_manager_a.pk}")

    assert (patched.status_code, deleted.status_code) == (403, 403)
    peer = User.objects.get(pk=second_manager_a.pk)
    assert peer.check_password(PASSWORD) and peer.is_active and not peer.extension and not peer.email


def test_a_manager_changes_their_own_name_email_and_phone_only(everyone, api_as):
    manager = everyone["manager_a"]
    client = api_as(manager)

    profile = client.patch(
        f"users/{manager.pk}", {"first_name": "수진", "email": "sujin@example.com", "phone": "010-2222-3333"}
    )
    password = client.patch(f"users/{manager.pk}", {"first_name": "Other", "password": NEW_PASSWORD})
    extension = client.patch(f"users/{manager.pk}", {"extension": "1800"})

    assert profile.status_code == 200 and profile.json()["email"] == "sujin@example.com"
    assert (password.status_code, extension.status_code) == (403, 403)
    assert error_code(password) == "permission_denied"
    saved = User.objects.get(pk=manager.pk)
    assert saved.first_name == "수진" and saved.check_password(PASSWORD) and not saved.extension  # nothing half-done


def test_a_manager_cannot_make_an_agent_a_manager(everyone, api_as):
    agent_a = everyone["agent_a"]

    response = api_as(everyone["manager_a"]).patch(f"users/{agent_a.pk}", {"role": "MANAGER"})

    assert response.status_code == 403
    assert User.objects.get(pk=agent_a.pk).role == Role.AGENT


def test_manager_cannot_promote_anyone_to_admin(everyone, api_as):
    response = api_as(everyone["manager_a"]).patch(f"users/{everyone['agent_a'].pk}", {"role": "SYSTEM_ADMIN"})

    assert response.status_code == 403
    assert User.objects.get(pk=everyone["agent_a"].pk).role == Role.AGENT


def test_nobody_changes_their_own_role(everyone, api_as):
    manager = everyone["manager_a"]

    response = api_as(manager).patch(f"users/{manager.pk}", {"role": "AGENT"})

    assert response.status_code == 409


def test_admin_moves_an_agent_to_another_company(everyone, api_as):
    company_b = Company.objects.get(pk=everyone["agent_b"].company_id)

    response = api_as(everyone["admin"]).patch(f"users/{everyone['agent_a'].pk}", {"company_id": company_b.pk})

    assert response.status_code == 200
    assert response.json()["company_id"] == company_b.pk


def test_new_password_signs_the_user_out_of_the_api(everyone, api_as):
    agent_a = everyone["agent_a"]
    agents_session = api_as(agent_a)

    response = api_as(everyone["manager_a"]).patch(f"users/{agent_a.pk}", {"password": NEW_PASSWORD})

    assert response.status_code == 200
    assert User.objects.get(pk=agent_a.pk).check_password(NEW_PASSWORD)
    assert agents_session.get("auth/me").status_code == 401


def test_weak_new_password_is_refused_and_the_old_one_kept(everyone, api_as):
    agent_a = everyone["agent_a"]

    response = api_as(everyone["manager_a"]).patch(f"users/{agent_a.pk}", {"password": "1234567890"})

    assert response.status_code == 422
    assert "password" in response.json()["error"]["fields"]
    assert User.objects.get(pk=agent_a.pk).check_password(PASSWORD)


def test_patch_with_wrong_types_is_a_422(everyone, api_as):
    response = api_as(everyone["admin"]).patch(f"users/{everyone['agent_a'].pk}", {"is_active": "maybe", "role": 3})

    assert response.status_code == 422
    assert {"is_active", "role"} <= set(response.json()["error"]["fields"])


# --- DELETE /users/{id} -----------------------------------------------------------------------------------------


def test_delete_deactivates_the_agent_signs_them_out_and_disables_their_state(everyone, api_as):
    agent_a = everyone["agent_a"]
    agents_session = api_as(agent_a)

    response = api_as(everyone["manager_a"]).delete(f"users/{agent_a.pk}")

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    agent = User.objects.get(pk=agent_a.pk)
    assert not agent.is_active and agent.activity_state == ActivityState.DISABLED
    assert agents_session.get("auth/me").status_code == 401


def test_reactivating_brings_the_agent_back_away_until_they_pick_ready(everyone, api_as):
    agent_a, client = everyone["agent_a"], api_as(everyone["manager_a"])
    client.delete(f"users/{agent_a.pk}")

    response = client.patch(f"users/{agent_a.pk}", {"is_active": True})

    assert response.status_code == 200
    body = response.json()
    assert body["is_active"] is True and body["activity"]["state"] == "AWAY"
    assert body["activity"]["pause_reason"]["code"] == "ENABLED_AGAIN"
    ready = api_as(agent_a).patch("auth/activity", {"state": "READY"})
    assert ready.status_code == 200 and ready.json()["activity"]["state"] == "READY"


@pytest.mark.parametrize(
    ("deleter", "target", "status"),
    [
        ("manager_a", "agent_b", 404),
        ("agent_a", "agent_a", 403),
        ("agent_a", "manager_a", 404),
        ("manager_a", "manager_a", 409),
        ("admin", "admin", 409),
        ("admin", "manager_b", 200),
    ],
)
def test_who_may_deactivate_whom(everyone, api_as, deleter, target, status):
    response = api_as(everyone[deleter]).delete(f"users/{everyone[target].pk}")

    assert response.status_code == status
    assert User.objects.get(pk=everyone[target].pk).is_active == (status != 200)


def test_a_misspelled_field_is_refused_not_ignored(everyone, api_as):
    """200 for a body whose only field is misspelled would tell the client a change was made that never was."""
    agent = everyone["agent_a"]
    response = api_as(everyone["admin"]).patch(f"users/{agent.pk}", {"is_activ": False})

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"is_activ": ["이 요청에 없는 항목입니다."]}, "Korean by default"
    assert User.objects.get(pk=agent.pk).is_active
