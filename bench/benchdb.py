"""A throwaway database for a bench, of the configured kind, apart from test runs."""

from django.conf import settings
from django.db import connection


def create() -> str:
    """Create the bench's own test database (a test run on the same server is left
    alone) and return its name, for `connection.creation.destroy_test_db`."""
    test = connection.settings_dict.setdefault("TEST", {})
    test["NAME"] = (
        str(settings.DATA_DIR / "bench.sqlite3")
        if connection.vendor == "sqlite"
        else f"{connection.settings_dict['NAME']}_bench"
    )
    return connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
