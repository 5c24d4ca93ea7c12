from django.urls import include, path

from accounts import views_members
from payments_dashboard import floor

urlpatterns = [
    path("accounts/", include("accounts.urls")),
    # The link an owner sends to invite someone to a merchant account.
    path("invitations/<str:token>/", views_members.invitation, name="invitation"),
    path("simulator/", include("simulator.urls")),
    path("", include("social_django.urls", namespace="social")),
    path("", include("payments.urls")),
    # A signed-in view that does nothing: the floor the HTTP load script compares pages with.
    path("ping/", floor.ping, name="ping"),
]
