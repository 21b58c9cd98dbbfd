from django.urls import path

from accounts import views, views_users

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change_view, name="password"),
    path("users/", views_users.user_list, name="users"),
    path("users/new/", views_users.user_new, name="user_new"),
    path("users/<int:user_id>/", views_users.user_edit, name="user_edit"),
    path("users/<int:user_id>/active/", views_users.user_toggle_active, name="user_toggle_active"),
    path("users/<int:user_id>/password/", views_users.user_reset_password, name="user_reset_password"),
]
