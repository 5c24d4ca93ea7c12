from django.urls import include, path

urlpatterns = [
    path("accounts/", include("accounts.urls")),
    path("simulator/", include("simulator.urls")),
    path("", include("social_django.urls", namespace="social")),
    path("", include("payments.urls")),
]
