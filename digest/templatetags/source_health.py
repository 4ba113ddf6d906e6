"""The admin index's warning about stale sources (templates/admin/index.html)."""

from django import template

from digest import health

register = template.Library()


@register.simple_tag
def stale_sources() -> list[dict[str, str]]:
    """Each enabled source that is stale now: its name, state and why."""
    return [
        {"pk": source.pk, "name": source.name, "label": found.label, "reason": found.reason}
        for source, found in health.stale_sources()
    ]
