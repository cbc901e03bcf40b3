from django.apps import AppConfig


class CasemgmtConfig(AppConfig):
    name = "casemgmt"
    verbose_name = "Case management"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from casemgmt import signals  # noqa: F401
