from django.urls import path

from calls import views, views_blocking, views_hours, views_queues

app_name = "calls"

urlpatterns = [
    path("", views.call_log, name="log"),
    path("export.csv", views.call_export, name="export"),
    path("<int:call_id>/", views.call_detail, name="detail"),
    path("<int:call_id>/note/", views.call_note, name="note"),
    path("queues/", views_queues.queue_list, name="queues"),
    path("queues/new/", views_queues.queue_edit, name="queue_new"),
    path("queues/<int:queue_id>/", views_queues.queue_edit, name="queue_edit"),
    path("<int:call_id>/block/", views_blocking.call_block, name="block"),
    path("<int:call_id>/report-abuse/", views_blocking.call_report_abuse, name="report_abuse"),
    path("abuse-reports/<int:report_id>/", views_blocking.abuse_report_answer, name="abuse_report_answer"),
    path("blocked/", views_blocking.blocked_list, name="blocked"),
    path("blocked/<int:blocked_id>/delete/", views_blocking.blocked_delete, name="blocked_delete"),
    path("hours/", views_hours.hours_list, name="hours"),
    path("hours/new/", views_hours.hours_edit, name="hours_new"),
    path("hours/<int:hours_id>/", views_hours.hours_edit, name="hours_edit"),
    path("hours/<int:hours_id>/delete/", views_hours.hours_delete, name="hours_delete"),
]
