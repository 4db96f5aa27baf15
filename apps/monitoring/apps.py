from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"

    def ready(self):
        from apps.checks.pipeline import scan_checks_wanted, scan_finalized, scan_findings_wanted

        from .receivers import contribute_checks, contribute_findings, on_scan_finalized

        scan_checks_wanted.connect(contribute_checks, dispatch_uid="monitoring.contribute_checks")
        scan_findings_wanted.connect(contribute_findings, dispatch_uid="monitoring.contribute_findings")
        scan_finalized.connect(on_scan_finalized, dispatch_uid="monitoring.on_scan_finalized")
