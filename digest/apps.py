from django.apps import AppConfig


class DigestConfig(AppConfig):
    name = "digest"
    verbose_name = "Papers and digests"

    def ready(self) -> None:
        from digest import checks  # noqa: F401  (registers the checks)
