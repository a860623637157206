from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "classbook.audit"
    label = "audit"
    verbose_name = "Audit log"
