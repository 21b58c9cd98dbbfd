from django.urls import path

from console import views

app_name = "console"

urlpatterns = [
    path("agent/", views.agent_console, name="agent"),
    path("agent/state/", views.agent_state, name="agent_state"),
    path("agent/after-call/", views.after_call, name="after_call"),
    path("wallboard/", views.wallboard, name="wallboard"),
    path("wallboard/agents/<int:agent_id>/state/", views.wallboard_agent_state, name="wallboard_agent_state"),
    path("missed/", views.missed_calls, name="missed"),
    path("missed/<int:call_id>/call-back/", views.call_back, name="call_back"),
    path("pause-reasons/", views.pause_reasons, name="pause_reasons"),
]
