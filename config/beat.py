"""Celery beat that runs the schedule in one process only, however many are started.

Two beats would fire every job twice. The jobs are idempotent (a duplicate dispatch
claims nothing new), but twice the fetches, reconciles and load is no way to run,
and a deploy that starts a second beat by mistake should not change anything. So
each beat holds a lease in the database (digest.models.Lease) before it fires
anything and renews it on every wake-up (at least every beat_max_loop_interval);
a second beat finds the lease held and waits, and takes over once the first has
stopped renewing it for BEAT_LEASE_SECONDS (it died, or lost the database).
"""

import contextlib
import logging
import os
import socket
import uuid
from datetime import timedelta

from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import DatabaseError, IntegrityError, close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger(__name__)

LEASE_NAME = "celery-beat"


def hold_lease(name: str, holder: str, seconds: int) -> bool:
    """Take or renew the lease `name` for `holder`; False while another holds it."""
    from digest.models import Lease

    now = timezone.now()
    until = now + timedelta(seconds=seconds)
    free_or_ours = Q(holder=holder) | Q(expires_at__lt=now)
    if Lease.objects.filter(free_or_ours, name=name).update(holder=holder, expires_at=until):
        return True
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, holder=holder, expires_at=until)
    except IntegrityError:  # it exists, and another holds it
        return False
    return True


def release_lease(name: str, holder: str) -> None:
    from digest.models import Lease

    Lease.objects.filter(name=name, holder=holder).delete()


class SingleBeatScheduler(PersistentScheduler):
    """PersistentScheduler that fires only while it holds the beat lease."""

    def __init__(self, *args, **kwargs) -> None:
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.holding: bool | None = None  # not known before the first tick
        super().__init__(*args, **kwargs)

    def _hold(self) -> bool:
        close_old_connections()  # beat lives long; its connection may have gone
        try:
            holding = hold_lease(LEASE_NAME, self.holder, settings.BEAT_LEASE_SECONDS)
        except DatabaseError as error:
            logger.error("beat: cannot reach the database to renew its lease: %s", error)
            holding = False
        if holding != self.holding:
            if holding:
                logger.info("beat: holding the lease as %s; running the schedule", self.holder)
            else:
                logger.warning("beat: another beat holds the lease; waiting (as %s)", self.holder)
            self.holding = holding
        return holding

    def tick(self, *args, **kwargs) -> float:
        if not self._hold():
            # Standing by: look again a few times per lease, to take over soon after.
            return min(self.max_interval, settings.BEAT_LEASE_SECONDS / 3)
        return super().tick(*args, **kwargs)

    def close(self) -> None:
        if self.holding:
            with contextlib.suppress(DatabaseError):  # else it runs out by itself
                release_lease(LEASE_NAME, self.holder)
        super().close()
