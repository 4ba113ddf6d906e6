"""Fixtures of the fault tests: due subscribers whose digests a test follows."""

import pytest


@pytest.fixture
def due_readers(make_subscriber, ingested_papers):
    """A factory of `count` due subscribers whose interests match the ingested papers."""

    def make(count: int, prefix: str = "reader") -> list:
        return [
            make_subscriber(email=f"{prefix}{i}@example.com", interests=("anomaly detection",))
            for i in range(count)
        ]

    return make
