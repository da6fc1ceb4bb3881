#!/usr/bin/env python
# ruff: noqa: S603 (fixed local commands: initdb, pg_ctl, redis-server, gunicorn, celery)
"""Fault injection on a production-like stack, all on 127.0.0.1 and all throwaway.

Starts its own PostgreSQL cluster (initdb in a temp dir), its own Redis (with an append-only
file, like production), gunicorn and a Celery worker with DJANGO_ENV=production, seeds a
portfolio, then:

  worker-kill   SIGKILLs the whole worker several times while scans and the digest fan-out
                run, restarts it, and checks that no alert is missing or duplicated (a
                synchronous scan afterwards opens nothing) and every digest went out once;
  redis-restart restarts Redis under the running web and worker: /healthz answers 503 while
                it is down and 200 afterwards by itself, and a task enqueued before completes;
  pg-restart    the same for PostgreSQL.

Prints PASS/FAIL per check and exits non-zero on any failure. Bounded to a few minutes.

    .venv/bin/python scripts/chaos.py [--kills 3] [--projects 300] [--managers 40]
"""

import argparse
import email
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PORT, REDIS_PORT, WEB_PORT = 5440, 6390, 8790
DIGEST_WEEK = "2025-W10"
results: list[tuple[str, bool, str]] = []


def report(check: str, ok: bool, detail: str = "") -> None:
    results.append((check, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'} {check}{': ' + detail if detail else ''}", flush=True)


def wait_until(condition, seconds: float, step: float = 0.25) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


class Stack:
    """The throwaway servers and the product's two processes."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.pgdata = workdir / "pgdata"
        self.mail = workdir / "mail"
        self.mail.mkdir()
        self.redis = self.web = self.worker = None
        self.env = {
            **os.environ,
            "DJANGO_ENV": "production",
            "SECRET_KEY": "chaos-" + os.urandom(16).hex(),
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PG_PORT}/cem_chaos",
            "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail),
            # A killed worker's unacknowledged task comes back after this many seconds.
            "CELERY_VISIBILITY_TIMEOUT": "8",
            "AXES_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
        }

    # --- PostgreSQL: our own cluster, never the machine's server ---------------------------
    def pg(self, tool: str) -> list:
        """PostgreSQL refuses to run as root: run its tools as the `postgres` user then."""
        return (["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []) + [PG_BIN / tool]

    def init_postgres(self) -> None:
        self.pgdata.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.pgdata, "postgres")
            self.workdir.chmod(0o777)
        subprocess.run(
            [*self.pg("initdb"), "-D", self.pgdata, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        self.start_postgres()
        subprocess.run(
            [PG_BIN / "createdb", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "cem_chaos"],
            check=True,
        )

    def start_postgres(self) -> None:
        options = f"-p {PG_PORT} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [
                *self.pg("pg_ctl"),
                "-D",
                self.pgdata,
                "-o",
                options,
                "-l",
                self.workdir / "pg.log",
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )

    def stop_postgres(self) -> None:
        subprocess.run(
            [*self.pg("pg_ctl"), "-D", self.pgdata, "-m", "fast", "-w", "stop"], capture_output=True
        )

    # --- Redis: our own, persisted like production ------------------------------------------
    def start_redis(self) -> None:
        self.redis = subprocess.Popen(
            [
                *(
                    "redis-server",
                    "--port",
                    str(REDIS_PORT),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(self.workdir),
                ),
                *("--appendonly", "yes", "--appendfsync", "always", "--save", ""),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_until(lambda: self.redis_client().ping(), 10)

    def stop_redis(self) -> None:
        self.redis.terminate()
        self.redis.wait(10)

    def redis_client(self):
        import redis

        try:
            client = redis.Redis(port=REDIS_PORT, socket_timeout=1)
            client.ping()
            return client
        except redis.ConnectionError:
            return None

    # --- the product ------------------------------------------------------------------------
    def manage(self, *args: str) -> None:
        subprocess.run(
            [BIN / "python", "manage.py", *args], cwd=ROOT, env=self.env, check=True, capture_output=True
        )

    def start_web(self) -> None:
        self.web = subprocess.Popen(
            [BIN / "gunicorn", "cem.wsgi", "-b", f"127.0.0.1:{WEB_PORT}", "-w", "2", "--timeout", "30"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / "web.log", "ab"),  # noqa: SIM115
            start_new_session=True,
        )
        wait_until(lambda: health() is not None, 30)

    def start_worker(self) -> None:
        self.worker = subprocess.Popen(
            [
                BIN / "celery",
                "-A",
                "cem",
                "worker",
                "-c",
                "2",
                "-l",
                "warning",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / "worker.log", "ab"),  # noqa: SIM115
            start_new_session=True,
        )

    def supervise_worker(self) -> bool:
        """What systemd's Restart=always does: start the worker again if it exited. True when
        it had to."""
        if self.worker.poll() is None:
            return False
        self.start_worker()
        return True

    def kill_worker(self) -> None:
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(10)

    def stop(self) -> None:
        for process in (self.worker, self.web):
            if process and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        if self.redis and self.redis.poll() is None:
            self.stop_redis()
        self.stop_postgres()


def health() -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{WEB_PORT}/healthz", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


# --- data, through the product's own services ----------------------------------------------


def seed(projects: int, managers: int) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from accounts.models import Role, Team, User
    from finance_projects import services
    from finance_projects.models import Commitment, FinancingProject

    rms = []
    for number in range(managers):
        team = Team.objects.create(name=f"Chaos team {number}")
        manager = User.objects.create_user(
            username=f"manager{number}", email=f"manager{number}@bank.example", role=Role.MANAGER, team=team
        )
        team.manager = manager
        team.save()
        rms.append(
            User.objects.create_user(username=f"rm{number}", email=f"rm{number}@bank.example", team=team)
        )
    for number in range(projects):
        rm = rms[number % len(rms)]
        client = services.client_create(name=f"Chaos client {number}", relationship_manager=rm)
        project = services.project_create(
            client=client,
            name=f"Wind farm {number}",
            code=f"CH-{number:05d}",
            amount=Decimal("100000000"),
            currency="CNY",
            relationship_manager=rm,
        )
        services.commitment_create(
            project=project,
            title=f"Send the term sheet {number}",
            due_at=timezone.now() + timedelta(days=1),
            owner=rm,
            created_by=rm,
        )
    # Time has passed: every commitment is two days late and every project owes an update.
    past = timezone.now() - timedelta(days=2)
    Commitment.objects.update(due_at=past)
    FinancingProject.objects.update(next_update_due_at=past, last_client_update_at=past - timedelta(days=30))


def missed_commitment(number: int) -> int:
    """One more commitment already late, for the outage checks."""
    from datetime import timedelta

    from django.utils import timezone

    from finance_projects import services
    from finance_projects.models import Commitment, FinancingProject

    project = FinancingProject.objects.order_by("pk").first()
    commitment = services.commitment_create(
        project=project,
        title=f"Confirm the margin after outage {number}",
        due_at=timezone.now() + timedelta(days=1),
        owner=project.relationship_manager,
        created_by=project.relationship_manager,
    )
    Commitment.objects.filter(pk=commitment.pk).update(due_at=timezone.now() - timedelta(days=1))
    return commitment.pk


def alert_exists(commitment_id: int) -> bool:
    from django.db import connections

    from finance_projects.models import Alert

    try:
        return Alert.objects.filter(kind="commitment_missed", subject_id=commitment_id).exists()
    except Exception:
        connections.close_all()
        return False


def queue_drained(stack: Stack) -> bool:
    client = stack.redis_client()
    return client is not None and client.llen("celery") == 0 and client.hlen("unacked") == 0


# --- the checks ----------------------------------------------------------------------------


def check_worker_kill(stack: Stack, kills: int) -> None:
    from django.db import connections
    from django.db.models import Count

    from digests.models import DigestRun
    from digests.selectors import digest_recipients
    from digests.services import digest_runs_plan
    from digests.tasks import send_digest
    from digests.weeks import parse_week
    from finance_projects import scans, tasks
    from finance_projects.models import Alert, Commitment

    digest_runs_plan(week=parse_week(DIGEST_WEEK))
    run_ids = list(DigestRun.objects.values_list("pk", flat=True))
    started = time.monotonic()
    for kill in range(kills):
        for _ in range(10):
            tasks.run_all_scans.delay()
        for run_id in run_ids[kill::kills]:
            send_digest.delay(run_id)
        time.sleep(random.uniform(0.4, 1.6))
        stack.kill_worker()
        stack.start_worker()
    drained = wait_until(lambda: queue_drained(stack), 90, step=1)
    wait_until(lambda: not DigestRun.objects.exclude(status="sent").exists(), 60, step=1)
    report(
        "worker-kill: queue drained after restarts",
        drained,
        f"{kills} kills, {time.monotonic() - started:.0f} s",
    )

    connections.close_all()
    duplicates = (
        Alert.objects.filter(resolved_at__isnull=True)
        .values("kind", "subject_type", "subject_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    missed = Commitment.objects.filter(status="open").count()
    raised = Alert.objects.filter(kind="commitment_missed", resolved_at__isnull=True).count()
    report("worker-kill: no alert duplicated", duplicates == 0, f"{duplicates} duplicated subjects")
    report("worker-kill: no missed commitment without its alert", raised == missed, f"{raised}/{missed}")
    opened = {name: result[0] for name, result in scans.run_all().items()}
    report(
        "worker-kill: a synchronous scan afterwards opens nothing",
        not any(opened.values()),
        json.dumps(opened),
    )

    recipients = set(digest_recipients().values_list("email", flat=True))
    sent = DigestRun.objects.filter(status="sent").count()
    report("worker-kill: every digest run sent", sent == len(recipients), f"{sent}/{len(recipients)}")
    subjects = set(DigestRun.objects.values_list("subject", flat=True))
    per_recipient: dict[str, int] = {}
    for path in stack.mail.glob("*.log"):
        for raw in path.read_text(errors="replace").split("-" * 79):
            if not raw.strip():
                continue
            message = email.message_from_string(raw.strip())
            subject = str(email.header.make_header(email.header.decode_header(message["Subject"] or "")))
            if subject in subjects:
                per_recipient[message["To"]] = per_recipient.get(message["To"], 0) + 1
    twice = {to: n for to, n in per_recipient.items() if n != 1}
    report(
        "worker-kill: every digest e-mailed exactly once",
        set(per_recipient) == recipients and not twice,
        f"{sum(per_recipient.values())} e-mails to {len(recipients)} recipients; repeated: {twice or 'none'}",
    )


def check_outage(stack: Stack, name: str, stop, start, countdown: int) -> None:
    from finance_projects import tasks

    commitment_id = missed_commitment(len(results))
    tasks.run_all_scans.apply_async(countdown=countdown)
    stop()
    down = wait_until(lambda: health() == 503, 20)
    report(f"{name}: /healthz answers 503 while it is down", down, f"status {health()}")
    time.sleep(4)
    start()
    up = wait_until(lambda: health() == 200, 60, step=0.5)
    report(f"{name}: /healthz answers 200 again by itself", up, f"status {health()}")
    crashed = stack.worker.poll() is not None
    report(
        f"{name}: the worker kept running through the outage",
        not crashed,
        "see worker.log" if crashed else "",
    )
    stack.supervise_worker()
    done = wait_until(lambda: alert_exists(commitment_id), 120, step=1)
    report(f"{name}: the task enqueued before the outage completed", done)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--projects", type=int, default=300)
    parser.add_argument("--managers", type=int, default=40)
    args = parser.parse_args()

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="cem-chaos-"))
    stack = Stack(workdir)
    os.environ.update(stack.env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cem.settings")
    sys.path.insert(0, str(ROOT))
    try:
        stack.init_postgres()
        stack.start_redis()
        stack.manage("migrate", "--noinput")
        import django

        django.setup()
        seed(args.projects, args.managers)
        stack.start_web()
        stack.start_worker()
        report("stack: /healthz answers 200", health() == 200, f"status {health()}")

        check_worker_kill(stack, args.kills)
        check_outage(stack, "redis-restart", stack.stop_redis, stack.start_redis, countdown=6)
        check_outage(stack, "pg-restart", stack.stop_postgres, stack.start_postgres, countdown=2)
    finally:
        stack.stop()
        failed = [check for check, ok, _ in results if not ok]
        print(
            f"chaos: {len(results) - len(failed)} passed, {len(failed)} failed"
            f" in {time.monotonic() - started:.0f} s"
        )
        if failed:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
