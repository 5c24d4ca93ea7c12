from __future__ import annotations

from django.urls import URLPattern, path

from simulator import views

app_name = "simulator"
urlpatterns: list[URLPattern] = [
    path(".well-known/jwks", views.jwks, name="jwks"),
    path("pay/<str:link_id>/", views.pay, name="pay"),
    path("pay/<str:link_id>/authorise/", views.authorise, name="authorise"),
    path("pay/<str:link_id>/fail/", views.fail, name="fail"),
    path("pay/<str:link_id>/settle/", views.settle, name="settle"),
    path("pay/<str:link_id>/expire/", views.expire, name="expire"),
]
