from django.urls import path

from companies import views

app_name = "companies"

urlpatterns = [
    path("", views.company_list, name="list"),
    path("new/", views.company_edit, name="new"),
    path("<int:company_id>/", views.company_edit, name="edit"),
    path("<int:company_id>/active/", views.company_toggle_active, name="toggle_active"),
]
