from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"

    def ready(self):
        from apps.checks.pipeline import scan_finalized, scan_findings_wanted

        from .receivers import contribute_findings, on_scan_finalized

        scan_findings_wanted.connect(contribute_findings, dispatch_uid="monitoring.contribute_findings")
        scan_finalized.connect(on_scan_finalized, dispatch_uid="monitoring.on_scan_finalized")
