"""Production settings are safe, and the Celery configuration keeps its promises."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from config.celery import app

ROOT = Path(__file__).resolve().parent.parent


def _deploy_check(site_url: str, **extra: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "a-long-random-production-secret-" + "k3Y9" * 12,
        "SITE_URL": site_url,
        "ALLOWED_HOSTS": "paperboy.example",
        **extra,
    }
    env.pop("SECURE_SSL_REDIRECT", None)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check_with_no_warning():
    result = _deploy_check("https://paperboy.example")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_wants_an_https_site_url():
    result = _deploy_check("http://paperboy.example")

    assert result.returncode != 0
    assert "paperboy.W001" in result.stderr + result.stdout


def test_the_deploy_check_wants_webhooks_protected_when_an_esp_sends():
    esp = {"EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend"}

    unprotected = _deploy_check("https://paperboy.example", **esp)
    protected = _deploy_check("https://paperboy.example", **esp, WEBHOOK_SECRET="esp:s3cret")

    assert "paperboy.W002" in unprotected.stderr + unprotected.stdout
    assert protected.returncode == 0, protected.stdout + protected.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "false"}
    env.pop("SECRET_KEY", None)

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_tasks_are_acknowledged_late_and_given_back_when_the_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]


def test_the_broker_redelivers_only_after_the_longest_task_could_have_finished():
    from digest.tasks import MAX_SEND_ATTEMPTS, RETRY_BASE_SECONDS

    options = app.conf.broker_transport_options
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        assert Path(options["data_folder_in"]).is_dir()
        return
    longest_countdown = RETRY_BASE_SECONDS * 2 ** (MAX_SEND_ATTEMPTS - 2)
    assert options["visibility_timeout"] > app.conf.task_time_limit
    assert options["visibility_timeout"] > longest_countdown


def test_beat_fetches_sources_every_few_hours_and_dispatches_every_15_minutes():
    schedule = app.conf.beat_schedule

    assert schedule["fetch-sources"]["task"] == "digest.tasks.fetch_all_sources"
    assert 1 <= schedule["fetch-sources"]["schedule"].total_seconds() / 3600 <= 6
    assert schedule["dispatch-digests"]["task"] == "digest.tasks.dispatch_digests"
    assert schedule["dispatch-digests"]["schedule"].total_seconds() == 15 * 60
    assert set(app.tasks) >= {"digest.tasks.fetch_all_sources", "digest.tasks.dispatch_digests"}
