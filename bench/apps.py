from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Installed only when BENCH=1: comparison models and endpoints for the benchmarks."""

    name = "bench"
    verbose_name = "Benchmarks"
    default_auto_field = "django.db.models.BigAutoField"
