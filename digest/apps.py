from django.apps import AppConfig


class DigestConfig(AppConfig):
    name = "digest"
    verbose_name = "Papers and digests"

    def ready(self) -> None:
        from anymail.signals import tracking

        from digest import checks  # noqa: F401  (registers the checks)
        from digest.feedback import on_tracking_event

        # The provider's delivery, bounce and complaint reports (see digest/feedback.py).
        tracking.connect(on_tracking_event, dispatch_uid="paperboy-digest-feedback")
