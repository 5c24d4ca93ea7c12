from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.recent import on_user_logged_in

        user_logged_in.connect(on_user_logged_in, dispatch_uid="accounts.recent")
