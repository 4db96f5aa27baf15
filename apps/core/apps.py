from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self):
        from . import request_id  # noqa: F401 - connects the Celery signals that carry request ids into tasks
