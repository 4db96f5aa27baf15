from django.apps import AppConfig


class DeploysConfig(AppConfig):
    name = "apps.deploys"
    label = "deploys"

    def ready(self):
        from apps.checks.pipeline import scan_finalized

        from .gate import on_scan_finalized

        scan_finalized.connect(on_scan_finalized, dispatch_uid="deploys.on_scan_finalized")
