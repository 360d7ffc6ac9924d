"""The Celery app. Configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")

app = Celery("workbench")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _resend_stale_jobs(**_: object) -> None:
    """A starting worker sends again the jobs whose messages were lost (services/jobs.py)."""
    from annotations.services.jobs import jobs_resend_stale

    jobs_resend_stale()
