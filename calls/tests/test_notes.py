"""A call's note: written by whoever may see the call, kept encrypted, shown on the call's page and in the API."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from calls.models import NOTE_MAX_CHARS, Call, CallNote
from calls.selectors import call_note_text
from calls.services_notes import call_note_save
from console.tests.simulated_calls import SimulatedCall

pytestmark = pytest.mark.django_db

NOTE = "배송 주소 변경 요청: 서울시 강남구 … 내일 다시 전화 드리기로 함"


@pytest.fixture
def answered_call(agent_a, queue_a):
    call = SimulatedCall(agent=agent_a, queue=queue_a, caller="01012345678")
    call.ring()
    call.answer()
    return call.hang_up()


# --- the service ------------------------------------------------------------------------------------------------


def test_the_agent_who_took_the_call_writes_its_note_and_a_manager_rewrites_it(answered_call, agent_a, manager_a):
    call_note_save(call=answered_call, text=f"  {NOTE}\n", by=agent_a)
    assert call_note_text(call=answered_call) == NOTE  # trimmed

    call_note_save(call=answered_call, text="Called back, solved.", by=manager_a)

    note = CallNote.objects.get(call=answered_call)
    assert (note.text, note.updated_by) == ("Called back, solved.", manager_a)


def test_the_note_is_encrypted_at_rest(answered_call, agent_a):
    call_note_save(call=answered_call, text=NOTE, by=agent_a)

    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM calls_callnote WHERE call_id = %s", [answered_call.pk])
        (stored,) = cursor.fetchone()
    assert stored and "배송" not in stored and stored.startswith("gAAAA")  # a Fernet token


@pytest.mark.parametrize("writer", ["agent_b", "manager_b", "other_agent_a"])
def test_nobody_who_cannot_see_the_call_writes_its_note(answered_call, request, make_user, company_a, writer):
    # other_agent_a: of the same company, but not their call
    user = make_user(company=company_a) if writer == "other_agent_a" else request.getfixturevalue(writer)

    with pytest.raises(Call.DoesNotExist):
        call_note_save(call=answered_call, text="not mine", by=user)
    assert not CallNote.objects.exists()


def test_a_note_too_long_is_refused_and_the_old_one_kept(answered_call, agent_a):
    call_note_save(call=answered_call, text=NOTE, by=agent_a)

    with pytest.raises(ValidationError, match=str(NOTE_MAX_CHARS)):
        call_note_save(call=answered_call, text="x" * (NOTE_MAX_CHARS + 1), by=agent_a)

    assert call_note_text(call=answered_call) == NOTE


def test_an_empty_note_removes_it(answered_call, agent_a):
    call_note_save(call=answered_call, text=NOTE, by=agent_a)

    assert call_note_save(call=answered_call, text="   ", by=agent_a) is None
    assert not CallNote.objects.exists() and call_note_text(call=answered_call) == ""


# --- the call's page ---------------------------------------------------------------------------------------------


def test_the_agent_writes_the_note_on_the_calls_page(client, answered_call, agent_a):
    client.force_login(agent_a)

    response = client.post(reverse("calls:note", args=[answered_call.pk]), {"text": NOTE})

    assert response.status_code == 302 and response.url == reverse("calls:detail", args=[answered_call.pk])
    page = client.get(response.url).content.decode()
    assert NOTE in page and "010-1234-5678" in page


def test_a_note_too_long_comes_back_in_the_form_not_lost(client, answered_call, agent_a):
    client.force_login(agent_a)
    too_long = "메모" * NOTE_MAX_CHARS

    response = client.post(reverse("calls:note", args=[answered_call.pk]), {"text": too_long})

    assert response.status_code == 400
    body = response.content.decode()
    assert too_long in body and 'data-error-for="text"' in body
    assert not CallNote.objects.exists()


def test_another_companys_manager_gets_no_such_call(client, answered_call, manager_b):
    client.force_login(manager_b)

    response = client.post(reverse("calls:note", args=[answered_call.pk]), {"text": "mine now"})

    assert response.status_code == 404
    assert not CallNote.objects.exists()


def test_the_agent_console_marks_noted_calls_and_links_the_wrap_up_to_its_call(client, agent_a, queue_a):
    call = SimulatedCall(agent=agent_a, queue=queue_a)
    call.ring()
    call.answer()
    ended = call.hang_up()  # the agent is in wrap-up now
    client.force_login(agent_a)

    before = client.get(reverse("console:agent")).content.decode()
    call_note_save(call=ended, text=NOTE, by=agent_a)
    after = client.get(reverse("console:agent")).content.decode()

    link = f'href="{reverse("calls:detail", args=[ended.pk])}" data-note-link'
    assert link in before and "data-has-note" not in before
    assert "data-has-note" in after
