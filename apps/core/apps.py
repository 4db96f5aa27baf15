from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self):
        from . import checks, request_id  # noqa: F401 - deploy checks; the Celery signals that carry request ids
