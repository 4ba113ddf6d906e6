"""Production settings are safe, and the Celery configuration keeps its promises."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from config.celery import app

ROOT = Path(__file__).resolve().parent.parent


def _deploy_check(
    site_url: str, fail_level: str = "WARNING", **extra: str
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "a-long-random-production-secret-" + "k3Y9" * 12,
        "SITE_URL": site_url,
        "ALLOWED_HOSTS": "paperboy.example",
        # Production mails through a provider or an SMTP relay, not to local files.
        "EMAIL_BACKEND": "config.smtp.EmailBackend",
        **extra,
    }
    env.pop("SECURE_SSL_REDIRECT", None)
    for name in {"WEBHOOK_SECRET", "DELIVERY_WEBHOOKS"} - set(extra):
        env.pop(name, None)  # the test's, not whatever the environment has
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", fail_level],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check_with_no_warning():
    result = _deploy_check("https://paperboy.example", WEBHOOK_SECRET="esp:s3cret")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_wants_an_https_site_url():
    result = _deploy_check("http://paperboy.example", WEBHOOK_SECRET="esp:s3cret")

    assert result.returncode != 0
    assert "paperboy.W001" in result.stderr + result.stdout


def test_the_deploy_check_fails_without_a_webhook_secret_whatever_the_backend():
    local_outbox = _deploy_check(
        "https://paperboy.example", fail_level="ERROR", EMAIL_BACKEND="config.outbox.EmailBackend"
    )
    esp = _deploy_check(
        "https://paperboy.example",
        fail_level="ERROR",
        EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
    )
    protected = _deploy_check(
        "https://paperboy.example",
        EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
        WEBHOOK_SECRET="esp:s3cret",
    )
    # Running without delivery reports is allowed, when it is said.
    reports_off = _deploy_check("https://paperboy.example", DELIVERY_WEBHOOKS="false")

    for unprotected in (local_outbox, esp):
        assert unprotected.returncode != 0
        assert "ERRORS:" in unprotected.stderr
        assert (
            "paperboy.E003" in unprotected.stderr
            and "DELIVERY_WEBHOOKS=false" in unprotected.stderr
        )
    assert protected.returncode == 0, protected.stdout + protected.stderr
    assert reports_off.returncode == 0, reports_off.stdout + reports_off.stderr


def test_the_deploy_check_fails_when_mail_would_stay_on_the_machine():
    for backend in ("config.outbox.EmailBackend", "django.core.mail.backends.console.EmailBackend"):
        result = _deploy_check(
            "https://paperboy.example", WEBHOOK_SECRET="esp:s3cret", EMAIL_BACKEND=backend
        )

        assert result.returncode != 0
        assert "paperboy.E005" in result.stderr, result.stderr


def test_smtp_credentials_and_tls_come_from_the_environment():
    script = (
        "from django.conf import settings as s; "
        "print(s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.EMAIL_USE_SSL)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "true",
        "EMAIL_HOST_USER": "relay-user",
        "EMAIL_HOST_PASSWORD": "s3cret",
        "EMAIL_USE_TLS": "true",
    }
    run = [sys.executable, "-c", f"import django; django.setup(); {script}"]

    configured = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True)
    both = subprocess.run(
        run, cwd=ROOT, env={**env, "EMAIL_USE_SSL": "true"}, capture_output=True, text=True
    )

    assert configured.stdout.strip() == "relay-user s3cret True False", configured.stderr
    assert both.returncode != 0 and "EMAIL_USE_TLS" in both.stderr


def test_a_4xx_is_logged_once_and_the_local_broker_names_its_host():
    from logging import getLogger

    # The web server's access log has every 4xx; Django's request logger keeps the errors.
    assert getLogger("django.request").getEffectiveLevel() == 40  # ERROR
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        assert settings.CELERY_BROKER_URL == "filesystem://localhost//"


def _check(**env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"}
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_broker_shared_between_hosts_with_a_cache_local_to_each_is_an_error():
    local_everything = _check()
    shared_broker = _check(CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//")
    shared_both = _check(
        CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//", REDIS_URL="redis://127.0.0.1/9"
    )

    assert local_everything.returncode == 0, local_everything.stderr
    assert shared_broker.returncode != 0
    assert "paperboy.E001" in shared_broker.stderr and "Set REDIS_URL" in shared_broker.stderr
    assert shared_both.returncode == 0, shared_both.stderr


def test_a_delivery_lease_shorter_than_a_slow_send_is_an_error():
    result = _check(EMAIL_TIMEOUT="60", DELIVERY_LEASE_SECONDS="300")

    assert result.returncode != 0
    assert "paperboy.E002" in result.stderr


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
    options = app.conf.broker_transport_options
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        assert Path(options["data_folder_in"]).is_dir()
        return
    assert options["visibility_timeout"] > app.conf.task_time_limit
    # No task waits in the broker for hours: a delivery's retries wait on its row (hours
    # apart), and only task retries of a few seconds use countdowns.
    send_digests = app.tasks["digest.tasks.send_digests"]
    longest_countdown = send_digests.retry_backoff * 2**send_digests.max_retries
    assert options["visibility_timeout"] > longest_countdown


def test_beat_fetches_sources_every_few_hours_and_dispatches_every_15_minutes():
    schedule = app.conf.beat_schedule

    assert schedule["fetch-sources"]["task"] == "digest.tasks.fetch_all_sources"
    assert 1 <= schedule["fetch-sources"]["schedule"].total_seconds() / 3600 <= 6
    assert schedule["dispatch-digests"]["task"] == "digest.tasks.dispatch_digests"
    assert schedule["dispatch-digests"]["schedule"].total_seconds() == 15 * 60
    # What a dead worker left, and retries that came due, are taken back within minutes.
    assert schedule["reconcile-deliveries"]["task"] == "digest.tasks.reconcile_deliveries"
    assert schedule["reconcile-deliveries"]["schedule"].total_seconds() <= 60
    assert set(app.tasks) >= {"digest.tasks.fetch_all_sources", "digest.tasks.dispatch_digests"}
