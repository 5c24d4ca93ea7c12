from __future__ import annotations

from django.urls import URLPattern, path

from simulator import lifecycle, views

app_name = "simulator"
urlpatterns: list[URLPattern] = [
    path(".well-known/jwks", views.jwks, name="jwks"),
    path("pay/<str:link_id>/", views.pay, name="pay"),
    # One URL per action (named as the action), all served by `views.act`.
    *(
        path(f"pay/<str:link_id>/{action}/", views.act, {"action": action}, name=action)
        for action in sorted(lifecycle.ACTIONS)
    ),
]
