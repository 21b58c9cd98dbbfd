"""Django admin: system admins only; encrypted fields shown decrypted; exact phone search; read-only audit logs."""

import pytest
from django.urls import reverse

from accounts.models import ActivityChange, AuthEvent, User
from accounts.services import Actor, activity_change
from conftest import PASSWORD

ADMIN_PAGES = [
    ("admin:index", None),
    ("admin:accounts_user_changelist", None),
    ("admin:accounts_user_change", "agent_a"),
    ("admin:accounts_user_change", "agent_b"),
    ("admin:accounts_user_add", None),
    ("admin:accounts_activitychange_changelist", None),
    ("admin:accounts_authevent_changelist", None),
    ("admin:companies_company_changelist", None),
    ("admin:companies_company_change", "company_a"),
    ("admin:companies_company_change", "company_b"),
]


def page_url(request, name, target):
    if target is None:
        return reverse(name)
    return reverse(name, args=[request.getfixturevalue(target).pk])


@pytest.fixture
def everyone(admin_user, manager_a, agent_a, manager_b, agent_b):
    return {"admin_user": admin_user, "manager_a": manager_a, "agent_a": agent_a, "manager_b": manager_b}


@pytest.mark.parametrize(("name", "target"), ADMIN_PAGES)
def test_the_system_admin_opens_every_admin_page_of_every_company(client, request, everyone, name, target):
    client.force_login(everyone["admin_user"])
    assert client.get(page_url(request, name, target)).status_code == 200


@pytest.mark.parametrize("role", ["manager_a", "agent_a", "manager_b"])
@pytest.mark.parametrize(("name", "target"), ADMIN_PAGES)
def test_managers_and_agents_are_refused_from_the_admin_for_any_company(client, request, everyone, role, name, target):
    client.force_login(everyone[role])
    response = client.get(page_url(request, name, target))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_manager_cannot_sign_in_to_the_admin(client, manager_a):
    # The admin's own form hands over to the console's rate-limited sign-in, which signs nobody in by itself.
    response = client.post(reverse("admin:login"), {"username": "manager_a", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    client.force_login(manager_a)
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("admin:login")), "not staff: no admin"


def test_anonymous_visitors_are_sent_to_the_admin_login(client, db):
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("admin:login"))


def test_the_user_list_shows_phones_decrypted(client, admin_user, make_user, company_a):
    make_user(company=company_a, username="kim", phone="010-3333-4444")
    client.force_login(admin_user)
    assert "010-3333-4444" in client.get(reverse("admin:accounts_user_changelist")).content.decode()


def test_the_user_form_shows_the_phone_decrypted(client, admin_user, make_user, company_a):
    kim = make_user(company=company_a, phone="010-3333-4444")
    client.force_login(admin_user)
    response = client.get(reverse("admin:accounts_user_change", args=[kim.pk]))
    assert "010-3333-4444" in response.content.decode()
    assert "gAAAA" not in response.content.decode()


@pytest.mark.parametrize("search", ["010-3333-4444", "+82 10 3333 4444", "01033334444"])
def test_a_user_is_found_by_exact_phone(client, admin_user, make_user, company_a, search):
    kim = make_user(company=company_a, username="kim", phone="010-3333-4444")
    make_user(company=company_a, username="lee", phone="010-3333-4445")
    client.force_login(admin_user)
    response = client.get(reverse("admin:accounts_user_changelist"), {"q": search})
    assert list(response.context["cl"].result_list) == [kim]


def test_a_phone_fragment_finds_no_user(client, admin_user, make_user, company_a):
    make_user(company=company_a, username="kim", phone="010-3333-4444")
    client.force_login(admin_user)
    response = client.get(reverse("admin:accounts_user_changelist"), {"q": "3333"})
    assert list(response.context["cl"].result_list) == []


def test_the_admin_saves_a_phone_encrypted(client, admin_user, agent_a, company_a):
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[agent_a.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update({"username": "agent_a", "role": "AGENT", "company": company_a.pk, "phone": "010-7777-8888"})
    data.update({"date_joined_0": "2026-01-01", "date_joined_1": "09:00:00", "is_active": "on"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    fresh = User.objects.get(pk=agent_a.pk)
    assert fresh.phone == "010-7777-8888"
    assert list(User.objects.with_phone("+82 10-7777-8888")) == [fresh]


@pytest.fixture
def audit_entry(agent_a):
    activity_change(agent_id=agent_a.pk, to_state="TRAINING", actor=Actor.person(user=agent_a, agent=agent_a))
    return ActivityChange.objects.get()


def test_the_activity_log_is_listed_and_viewable(client, admin_user, audit_entry):
    client.force_login(admin_user)
    assert client.get(reverse("admin:accounts_activitychange_changelist")).status_code == 200
    response = client.get(reverse("admin:accounts_activitychange_change", args=[audit_entry.pk]))
    assert response.status_code == 200
    assert 'name="to_state"' not in response.content.decode()  # shown, not editable


def test_the_activity_log_cannot_be_added_changed_or_deleted(client, admin_user, audit_entry):
    client.force_login(admin_user)
    assert client.get(reverse("admin:accounts_activitychange_add")).status_code == 403
    change = reverse("admin:accounts_activitychange_change", args=[audit_entry.pk])
    assert client.post(change, {"to_state": "READY", "from_state": "READY"}).status_code == 403
    assert client.post(reverse("admin:accounts_activitychange_delete", args=[audit_entry.pk])).status_code == 403
    changelist = reverse("admin:accounts_activitychange_changelist")
    client.post(changelist, {"action": "delete_selected", "_selected_action": [audit_entry.pk], "post": "yes"})
    audit_entry.refresh_from_db()
    assert audit_entry.to_state == "TRAINING"


def test_the_login_record_is_read_only(client, admin_user):
    event = AuthEvent.objects.create(kind="FAILED", username="x")
    client.force_login(admin_user)
    assert client.get(reverse("admin:accounts_authevent_add")).status_code == 403
    assert client.post(reverse("admin:accounts_authevent_delete", args=[event.pk])).status_code == 403
    assert AuthEvent.objects.filter(pk=event.pk).exists()


def test_activity_state_is_not_editable_on_the_user_form(client, admin_user, agent_a):
    client.force_login(admin_user)
    content = client.get(reverse("admin:accounts_user_change", args=[agent_a.pk])).content.decode()
    assert 'name="activity_state"' not in content


def test_an_agent_added_in_the_admin_gets_a_sip_secret(client, admin_user, company_a):
    client.force_login(admin_user)
    data = {
        "username": "new_agent",
        "password1": "violet-harbour-lantern-42",
        "password2": "violet-harbour-lantern-42",
        "role": "AGENT",
        "company": company_a.pk,
        "extension": "1077",
        "phone": "010-1111-2222",
        "usable_password": "true",
    }
    response = client.post(reverse("admin:accounts_user_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    agent = User.objects.get(username="new_agent")
    assert len(agent.sip_secret) >= 20
    assert agent.password.startswith("argon2_peppered$argon2id$")
    assert agent.phone == "010-1111-2222" and not agent.is_staff


def test_a_weak_password_is_refused_in_the_admin(client, admin_user, company_a):
    client.force_login(admin_user)
    data = {"username": "weak", "password1": "12345", "password2": "12345", "role": "AGENT", "company": company_a.pk}
    data["usable_password"] = "true"
    response = client.post(reverse("admin:accounts_user_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["password2"]
    assert not User.objects.filter(username="weak").exists()


def test_a_manager_without_a_company_is_refused_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    data = {"username": "m", "password1": "violet-harbour-lantern-42", "password2": "violet-harbour-lantern-42"}
    data.update({"role": "MANAGER", "usable_password": "true"})
    response = client.post(reverse("admin:accounts_user_add"), data)
    assert response.status_code == 200
    assert "company" in response.context["adminform"].form.errors
