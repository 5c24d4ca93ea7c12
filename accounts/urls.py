from __future__ import annotations

from django.urls import URLPattern, path

from accounts import views

app_name = "accounts"
urlpatterns: list[URLPattern] = [
    path("login/", views.login_page, name="login"),
    path("logout/", views.logout, name="logout"),
    path("error/", views.error, name="error"),
    path("reauth/", views.reauth, name="reauth"),
    # Always routed; the view answers 404 unless DEBUG is on and Auth0 is not configured.
    path("dev-login/", views.dev_login, name="dev_login"),
]
