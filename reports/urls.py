from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.report, name="report"),
    path("<str:table>.csv", views.export, name="export"),
    path("agents/<int:agent_id>/", views.agent_activity, name="agent_activity"),
]
