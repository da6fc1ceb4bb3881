"""The embedded default's broker (kombu's filesystem transport) keeps all its files in its folder."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SEND_A_TASK = """
import django
django.setup()
from cem.celery import app
app.send_task("cem.no_such_task")
"""


def test_sending_a_task_writes_only_inside_the_broker_folder_not_the_working_directory(tmp_path):
    working_directory, broker = tmp_path / "cwd", tmp_path / "broker"
    working_directory.mkdir()
    env = {name: value for name, value in os.environ.items() if name not in ("REDIS_URL", "DATABASE_URL")}
    env.update(DJANGO_SETTINGS_MODULE="cem.settings", PYTHONPATH=str(ROOT), CELERY_BROKER_DIR=str(broker))

    command = [sys.executable, "-c", SEND_A_TASK]
    subprocess.run(command, cwd=working_directory, env=env, check=True, timeout=60)

    assert list(working_directory.iterdir()) == []
    assert (broker / "control" / "celery.exchange").exists()
    assert len(list((broker / "queue").iterdir())) == 1
