"""Typed readers for settings that come from the environment.

Each helper refuses nonsense with a message naming the variable, so a typo in a
deployment fails at start-up instead of misbehaving later.
"""

import os
from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured

N = TypeVar("N", int, float)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def _env_number(name: str, default: N, convert: Callable[[str], N], kind: str) -> N:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return convert(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {kind}, not {raw!r}") from None


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "a whole number")


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def env_list(name: str, default: str = "") -> list[str]:
    raw = os.environ.get(name, default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_seconds_list(name: str, default: str) -> list[int]:
    """A comma-separated list of durations: "60, 5m, 2h" (seconds unless m or h follows)."""
    units = {"s": 1, "m": 60, "h": 3600}
    values = []
    for item in env_list(name, default):
        number, unit = (item[:-1], item[-1]) if item[-1] in units else (item, "s")
        try:
            values.append(int(float(number) * units[unit]))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must be durations like 60, 5m, 2h separated by commas, not {item!r}"
            ) from None
    return values


def env_prefixed(prefix: str) -> dict[str, str]:
    """All variables starting with `prefix`, keyed by the rest of their name."""
    return {
        key[len(prefix) :]: value for key, value in os.environ.items() if key.startswith(prefix)
    }
