#!/usr/bin/env python
# ruff: noqa: S603 (fixed local commands: initdb, pg_ctl, redis-server, gunicorn, celery)
"""A bounded load run on loopback against gunicorn with production settings and PostgreSQL.

Three phases of `--seconds` each, `--threads` concurrent clients (http.client, keep-alive):
  floor   GET /bench/bare      the same server and middleware doing no work (BENCH_ENDPOINTS)
  home    GET /                an RM's dashboard with a signed-in session
  survey  GET + POST /s/<t>/   a client submitting a survey, each through its own invitation
Prints throughput and p50/p99 per phase next to the floor, then checks that every accepted
submission is stored exactly once. Uses its own database (cem_load) and Redis db 11.

    .venv/bin/python scripts/load.py [--seconds 10] [--threads 8] [--invitations 4000]
"""

import argparse
import http.client
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
PORT = 8791
REDIS_DB_URL = "redis://127.0.0.1:6379/11"
ENV = {
    **os.environ,
    "DJANGO_ENV": "production",
    "DJANGO_SETTINGS_MODULE": "bench.survey_settings",  # production settings, per-IP survey budget off
    "SECRET_KEY": "load-" + os.urandom(16).hex(),
    "SECURE_SSL_REDIRECT": "false",
    "ALLOWED_HOSTS": "127.0.0.1",
    "BENCH_ENDPOINTS": "true",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/cem_load",
    "REDIS_URL": REDIS_DB_URL,
    "AXES_ENABLED": "false",
    "LOG_LEVEL": "WARNING",
}


def seed(invitations: int) -> tuple[str, list[str], dict[str, str]]:
    """An RM with a portfolio, and `invitations` open survey links; returns the session cookie,
    the tokens and the answers every submission sends."""
    from datetime import timedelta
    from decimal import Decimal

    from django.test import Client as DjangoClient
    from django.utils import timezone

    from accounts.models import Role, Team, User
    from feedback.models import InvitationLink, Survey, SurveyInvitation
    from finance_projects import services
    from finance_projects.models import Contact
    from finance_projects.tokens import hash_token, new_token

    team = Team.objects.create(name="Load team")
    rm = User.objects.create_user(
        username="load-rm", email="rm@bank.example", role=Role.RELATIONSHIP_MANAGER, team=team
    )
    projects = []
    for number in range(30):
        client = services.client_create(name=f"Load client {number}", relationship_manager=rm)
        projects.append(
            services.project_create(
                client=client,
                name=f"Toll road {number}",
                code=f"LD-{number:04d}",
                amount=Decimal("250000000"),
                currency="CNY",
                relationship_manager=rm,
            )
        )
    survey = Survey.objects.filter(kind="relationship", is_active=True).order_by("id").first()
    now = timezone.now()
    contacts = Contact.objects.bulk_create(
        Contact(
            client=projects[n % 30].client, name=f"Contact {n}", email=f"c{n}@client.example", language="en"
        )
        for n in range(invitations)
    )
    rows = SurveyInvitation.objects.bulk_create(
        SurveyInvitation(
            project=projects[n % 30],
            contact=contact,
            survey=survey,
            trigger="manual",
            stage=projects[n % 30].stage,
            created_at=now,
            sent_at=now,
            expires_at=now + timedelta(days=30),
        )
        for n, contact in enumerate(contacts)
    )
    tokens = [new_token() for _ in rows]
    InvitationLink.objects.bulk_create(
        InvitationLink(invitation=row, token_hash=hash_token(token))
        for row, token in zip(rows, tokens, strict=True)
    )
    browser = DjangoClient()
    browser.force_login(rm)
    by_type = {"nps": "9", "csat": "4", "ces": "6", "text": "Clear and on time."}
    answers = {f"q_{q.pk}": by_type[q.type] for q in survey.questions.all() if q.type in by_type}
    return browser.cookies["sessionid"].value, tokens, answers


class Phase:
    def __init__(self, name: str):
        self.name = name
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.lock = threading.Lock()

    def record(self, started: float, status: int) -> None:
        with self.lock:
            self.latencies.append(time.perf_counter() - started)
            self.statuses[status] = self.statuses.get(status, 0) + 1


def run_phase(name: str, seconds: float, threads: int, step) -> tuple[Phase, float]:
    phase = Phase(name)
    stop = time.monotonic() + seconds

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        while time.monotonic() < stop:
            if not step(connection, phase):
                break

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    began = time.monotonic()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return phase, time.monotonic() - began


def get(connection, path: str, cookie: str = "") -> tuple[int, str]:
    connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = connection.getresponse()
    response.read()
    return response.status, response.getheader("Set-Cookie") or ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--invitations", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    args = parser.parse_args()

    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c"]
    subprocess.run([*psql, "DROP DATABASE IF EXISTS cem_load"], check=True)
    subprocess.run([*psql, "CREATE DATABASE cem_load"], check=True)
    subprocess.run(
        [BIN / "python", "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=ENV,
        check=True,
        capture_output=True,
    )
    # Production pages need the hashed static manifest, as a real deploy would build it.
    built = subprocess.run(
        [BIN / "python", "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
    )
    if built.returncode:
        print(f"FAIL collectstatic: {built.stderr.strip().splitlines()[-1]}")
    os.environ.update(ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    session, tokens, answers = seed(args.invitations)
    web = subprocess.Popen(
        [BIN / "gunicorn", "cem.wsgi", "-b", f"127.0.0.1:{PORT}", "-w", str(args.workers), "--timeout", "30"],
        cwd=ROOT,
        env=ENV,
        stderr=subprocess.DEVNULL,
    )
    accepted: list[str] = []
    try:
        for _ in range(100):
            try:
                if get(http.client.HTTPConnection("127.0.0.1", PORT, timeout=2), "/bench/bare")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        tokens_left: queue.Queue[str] = queue.Queue()
        for token in tokens:
            tokens_left.put(token)
        cookie = f"sessionid={session}"

        def bare(connection, phase):
            started = time.perf_counter()
            phase.record(started, get(connection, "/bench/bare")[0])
            return True

        def home(connection, phase):
            started = time.perf_counter()
            phase.record(started, get(connection, "/", cookie)[0])
            return True

        def survey(connection, phase):
            try:
                token = tokens_left.get_nowait()
            except queue.Empty:
                return False
            path = f"/s/{token}/"
            get(connection, path)  # the client opens the page, then answers
            body = urllib.parse.urlencode(answers)
            started = time.perf_counter()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            phase.record(started, response.status)
            if response.status == 302 and "done=1" in (response.getheader("Location") or ""):
                with phase.lock:
                    accepted.append(token)
            return True

        get(http.client.HTTPConnection("127.0.0.1", PORT), "/", cookie)  # warm up
        phases = [
            run_phase(name, args.seconds, args.threads, step)
            for name, step in (("floor", bare), ("home", home), ("survey", survey))
        ]
    finally:
        web.terminate()
        web.wait(15)

    floor_rate = len(phases[0][0].latencies) / phases[0][1]
    print(f"{'phase':<8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'x floor':>9}  statuses")
    for phase, elapsed in phases:
        values = sorted(phase.latencies)
        rate = len(values) / elapsed
        p50 = statistics.median(values) * 1000
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))] * 1000
        print(f"{phase.name:<8}{rate:>9.1f}{p50:>9.1f}{p99:>9.1f}{floor_rate / rate:>9.1f}  {phase.statuses}")

    from django.db import connections
    from django.db.models import Count

    from feedback.models import SurveyResponse
    from finance_projects.tokens import hash_token

    connections.close_all()
    hashes = [hash_token(token) for token in accepted]
    stored = SurveyResponse.objects.filter(invitation__links__token_hash__in=hashes)
    twice = stored.values("invitation").annotate(n=Count("id")).filter(n__gt=1).count()
    ok = stored.count() == len(accepted) and twice == 0
    errors = {phase.name: n for phase, _ in phases for status, n in phase.statuses.items() if status >= 500}
    print(f"{'FAIL' if errors else 'PASS'} no server errors under load: {errors or 'none'}")
    print(
        f"{'PASS' if ok else 'FAIL'} every accepted submission stored exactly once:"
        f" {stored.count()} stored for {len(accepted)} accepted, {twice} twice"
    )
    import redis

    redis.Redis.from_url(REDIS_DB_URL).flushdb()  # the tasks the submissions queued; no worker here
    return 0 if ok and not errors and not built.returncode else 1


if __name__ == "__main__":
    sys.exit(main())
