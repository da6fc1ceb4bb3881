"""Floors that only the load benchmarks route (bench/urls.py), never the product."""

import json

from django.db import connection
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

# Created by the survey benchmark (bench/survey_load.py) in its own database.
FLOOR_TABLE = "bench_submission_floor"
FLOOR_TABLE_SQL = f"""
    CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (
        id bigserial PRIMARY KEY, token text NOT NULL, answers jsonb NOT NULL,
        submitted_at timestamptz NOT NULL
    )
"""


@csrf_exempt  # as the survey page: the link is the credential
def submission_floor(request, token: str):
    """The least a durable submission can be in Django: the posted answers stored in one
    INSERT, committed, then the redirect a survey answers with. No lookup, no check."""
    answers = {name: value for name, value in request.POST.items() if name.startswith("q_")}
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {FLOOR_TABLE} (token, answers, submitted_at) VALUES (%s, %s, %s) RETURNING id",
            [token, json.dumps(answers), timezone.now()],
        )
        cursor.fetchone()
    return HttpResponseRedirect(f"{request.path}?done=1")
