"""The users pages: managers manage their company's agents, admins everyone; nobody reaches another company's users."""

import pytest
from django.urls import reverse

from accounts.models import ActivityChange, Role, User
from accounts.states import ActivityState
from companies.models import PauseReason
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-secret-42"


def test_manager_lists_only_their_company_agents(client, manager_a, agent_a, agent_b):
    client.force_login(manager_a)
    body = client.get(reverse("accounts:users")).content.decode()
    assert 'data-user="agent_a"' in body
    assert 'data-user="agent_b"' not in body and 'data-user="manager_a"' not in body


def test_agents_cannot_manage_users(client, agent_a):
    client.force_login(agent_a)
    assert client.get(reverse("accounts:users")).status_code == 403
    assert client.get(reverse("accounts:user_new")).status_code == 403


def test_manager_creates_an_agent_in_their_company(client, manager_a, company_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("accounts:user_new"),
        {
            "username": "newbie",
            "first_name": "민수",
            "extension": "1001",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert user.role == Role.AGENT and user.company == company_a and user.extension == "1001"
    assert user.check_password(NEW_PASSWORD)


def test_manager_cannot_make_an_admin_even_by_posting_the_role(client, manager_a, company_b):
    client.force_login(manager_a)
    client.post(
        reverse("accounts:user_new"),
        {
            "username": "sneaky",
            "role": "SYSTEM_ADMIN",
            "company": company_b.pk,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    user = User.objects.get(username="sneaky")
    assert user.role == Role.AGENT and user.company == manager_a.company


def test_create_form_says_what_is_wrong(client, manager_a, agent_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("accounts:user_new"),
        {"username": "agent_a", "extension": agent_a.extension, "password1": "short", "password2": "other"},
    )
    assert response.status_code == 400
    assert {"username", "extension", "password2"} <= set(response.context["form"].errors)
    assert 'data-error-for="extension"' in response.content.decode()


def test_extension_outside_the_company_range_is_refused(client, manager_a, company_a):
    company_a.extension_start, company_a.extension_end = "1000", "1099"
    company_a.save()
    client.force_login(manager_a)
    response = client.post(
        reverse("accounts:user_new"),
        {"username": "x", "extension": "2000", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 400 and "extension" in response.context["form"].errors


def test_manager_edits_an_agent_extension(client, manager_a, agent_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("accounts:user_edit", args=[agent_a.pk]), {"first_name": "지은", "extension": "1005"}
    )
    assert response.status_code == 302
    agent_a.refresh_from_db()
    assert agent_a.extension == "1005" and agent_a.first_name == "지은"


def test_manager_cannot_open_another_companys_agent(client, manager_a, agent_b):
    client.force_login(manager_a)
    assert client.get(reverse("accounts:user_edit", args=[agent_b.pk])).status_code == 404
    assert client.post(reverse("accounts:user_toggle_active", args=[agent_b.pk])).status_code == 404
    response = client.post(
        reverse("accounts:user_reset_password", args=[agent_b.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 404
    agent_b.refresh_from_db()
    assert agent_b.is_active and agent_b.check_password(PASSWORD)


def test_disabling_an_agent_records_disabled_and_blocks_sign_in(client, manager_a, agent_a):
    client.force_login(manager_a)
    client.post(reverse("accounts:user_toggle_active", args=[agent_a.pk]))
    agent_a.refresh_from_db()
    assert not agent_a.is_active and agent_a.activity_state == ActivityState.DISABLED
    client.logout()
    response = client.post(reverse("accounts:login"), {"username": "agent_a", "password": PASSWORD})
    assert response.status_code == 400


def test_re_enabling_an_agent_brings_them_back_away_until_they_pick_ready(client, manager_a, agent_a):
    client.force_login(manager_a)
    client.post(reverse("accounts:user_toggle_active", args=[agent_a.pk]))
    client.post(reverse("accounts:user_toggle_active", args=[agent_a.pk]))
    agent_a.refresh_from_db()
    assert agent_a.is_active and agent_a.activity_state == ActivityState.AWAY
    assert agent_a.pause_reason.code == PauseReason.Code.ENABLED_AGAIN and not agent_a.is_claimable
    change = ActivityChange.objects.filter(agent=agent_a).latest("id")
    assert (change.from_state, change.to_state, change.actor) == ("DISABLED", "AWAY", manager_a)


def test_password_reset_checks_strength_and_sets_it(client, manager_a, agent_a):
    client.force_login(manager_a)
    url = reverse("accounts:user_reset_password", args=[agent_a.pk])
    response = client.post(url, {"password1": "123", "password2": "123"})
    assert response.status_code == 400 and "password1" in response.context["password_form"].errors
    assert client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 302
    agent_a.refresh_from_db()
    assert agent_a.check_password(NEW_PASSWORD)


def test_a_password_reset_from_the_console_revokes_the_users_api_tokens(client, manager_a, agent_a):
    """QA: a token taken before the reset kept working; a new password through the API already revoked them."""
    from api.models import ApiToken
    from api.services import token_issue

    token_issue(user=agent_a)
    client.force_login(manager_a)
    url = reverse("accounts:user_reset_password", args=[agent_a.pk])
    assert client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 302
    assert not ApiToken.objects.live().of_user(agent_a.pk).exists()


def test_admin_creates_a_manager_for_a_company(client, admin_user, company_b):
    client.force_login(admin_user)
    response = client.post(
        reverse("accounts:user_new"),
        {
            "username": "boss_b",
            "role": "MANAGER",
            "company": company_b.pk,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="boss_b").company == company_b


def test_admin_must_give_a_manager_a_company(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("accounts:user_new"),
        {"username": "lost", "role": "MANAGER", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 400 and "company" in response.context["form"].errors


def test_an_agent_without_a_company_is_told_once(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("accounts:user_new"),
        {"username": "nocompany", "role": Role.AGENT, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert len(response.context["form"].errors["company"]) == 1


def test_a_username_differing_only_in_capitals_is_refused(client, manager_a, agent_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("accounts:user_new"),
        {"username": "AGENT_A", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 400 and "username" in response.context["form"].errors
    assert not User.objects.filter(username="AGENT_A").exists()


def test_an_agent_on_a_call_keeps_their_company_and_role_until_it_is_over(client, admin_user, agent_a, company_b):
    User.objects.filter(pk=agent_a.pk).update(activity_state=ActivityState.ON_CALL)
    client.force_login(admin_user)
    response = client.post(
        reverse("accounts:user_edit", args=[agent_a.pk]),
        {"role": Role.AGENT, "company": company_b.pk, "extension": agent_a.extension},
    )
    assert response.status_code == 400 and response.context["form"].errors
    assert User.objects.get(pk=agent_a.pk).company_id == agent_a.company_id


def test_a_system_admin_set_in_a_company_is_refused(client, admin_user, company_a):
    client.force_login(admin_user)
    response = client.post(
        reverse("accounts:user_new"),
        {"username": "root2", "role": Role.SYSTEM_ADMIN, "company": company_a.pk, "password1": NEW_PASSWORD,
         "password2": NEW_PASSWORD},
    )  # fmt: skip
    assert response.status_code == 400 and "company" in response.context["form"].errors
    assert not User.objects.filter(username="root2").exists()


def test_sign_in_takes_the_username_in_any_capitals(client, agent_a):
    response = client.post(reverse("accounts:login"), {"username": "AGENT_A", "password": PASSWORD})
    assert response.status_code == 302 and int(client.session["_auth_user_id"]) == agent_a.pk


def test_an_agent_moves_to_another_company_with_an_extension_of_its_range(client, admin_user, company_a, company_b,
                                                                           make_user):  # fmt: skip
    company_a.extension_start, company_a.extension_end = "1000", "1099"
    company_a.save()
    company_b.extension_start, company_b.extension_end = "2000", "2099"
    company_b.save()
    agent = make_user(company=company_a, username="mover", extension="1050")
    client.force_login(admin_user)
    edit = reverse("accounts:user_edit", args=[agent.pk])
    kept = client.post(edit, {"role": Role.AGENT, "company": company_b.pk, "extension": "1050"})
    assert kept.status_code == 400 and len(kept.context["form"].errors["extension"]) == 1  # said once
    moved = client.post(edit, {"role": Role.AGENT, "company": company_b.pk, "extension": "2050"})
    assert moved.status_code == 302
    assert User.objects.filter(pk=agent.pk, company=company_b, extension="2050").exists()


def test_a_system_admin_has_no_extension(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("accounts:user_new"),
        {"username": "root3", "role": Role.SYSTEM_ADMIN, "extension": "7000", "password1": NEW_PASSWORD,
         "password2": NEW_PASSWORD},
    )  # fmt: skip
    assert response.status_code == 400 and "extension" in response.context["form"].errors
