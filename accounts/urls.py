from __future__ import annotations

from django.urls import URLPattern, path

from accounts import views, views_members

app_name = "accounts"
urlpatterns: list[URLPattern] = [
    path("login/", views.login_page, name="login"),
    path("logout/", views.logout, name="logout"),
    path("error/", views.error, name="error"),
    path("reauth/", views.reauth, name="reauth"),
    # Always routed; the view answers 404 unless DEBUG is on and Auth0 is not configured.
    path("dev-login/", views.dev_login, name="dev_login"),
    # Merchant accounts and their members.
    path("members/", views_members.members, name="members"),
    path("members/invite/", views_members.member_invite, name="invite"),
    path("members/<int:member_id>/role/", views_members.member_role, name="member_role"),
    path("members/<int:member_id>/remove/", views_members.member_remove, name="member_remove"),
    path(
        "invitations/<int:invitation_id>/revoke/",
        views_members.invitation_revoke,
        name="invitation_revoke",
    ),
    path("new/", views_members.account_new, name="account_new"),
    path("switch/", views_members.account_switch, name="switch"),
]
