"""Load on the public survey page: concurrent submissions against the bare-Django floor.

    python -m bench.survey_load --scale 12000 --pairs 4 --duration 3 --connections 8

Starts gunicorn with production settings (DJANGO_ENV=production, DEBUG off, SSL redirect off,
BENCH_ENDPOINTS on; see bench/survey_settings.py) and the Dockerfile's workers on PostgreSQL at
127.0.0.1 (the database `--database-url` names, `cem_bench_survey` by default, created and
migrated when missing), with Redis as cache and broker when `--redis-url` (or BENCH_REDIS_URL)
is given, otherwise a per-process memory cache and a filesystem broker in a temporary folder.
Seeds `--scale` invitations, each with its own link, then alternates short bounded phases of
three kinds (`--pairs` rounds of `--duration` seconds each) against the same server, client and
concurrency:

- bare: GET /bench/bare, a tiny response through the same server and middleware, no database;
- floor: POST /bench/write/<token>/ with the same form, stored by one INSERT and committed, then
  the same redirect (bench/views.py): the least any durable submission costs here;
- survey: POST /s/<token>/ submitting a full answer (NPS + a comment), one token per request.

On a shared machine outside load comes in bursts; alternating makes a burst hit every kind
alike, and the ratio reported (target >= 50%) is the median of the per-round ratios survey /
bare, printed with each round, the totals and p50/p99 latency of each, and beside it the floor's
ratio to bare (what the target leaves for everything but the commit) and the survey's to the
floor. Then it checks every accepted submission (HTTP 302) was stored exactly once. Last, a
Celery worker takes the wake-up messages the web processes sent (at most one per process and
PROCESSING_DELAY_SECONDS) and processes the stored responses in bulk (comment tagging, detractor
alerts, hooks); the run checks every stored response was processed once, with one alert per
detractor. Uses `wrk` when installed, otherwise a thread-pool client. `--scale` must exceed the
submissions a phase makes: a reused link is answered with the thank-you page, not measured.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "cem_bench_survey"
SURVEY_PREFIX, FLOOR_PREFIX = "/s/", "/bench/write/"
KINDS = ("bare", "floor", "survey")
PROJECT_CODE = "BENCH-SURVEY"
TARGET_RATIO = 0.5
# A realistic mix: two detractors in ten (each raises an alert), comments in both languages.
ANSWERS = [
    (10, "客户经理很专业，每个节点都主动告知进度。"),
    (9, ""),
    (9, "Fast approval and smooth communication."),
    (8, "整体不错，希望提款流程再简化一些。"),
    (7, ""),
    (10, "Very helpful team."),
    (9, "审批效率高。"),
    (6, "审批进度没人通知我们，流程也太复杂。"),
    (8, ""),
    (3, "They promised disbursement by month end and missed it twice."),
]


def server_env(args) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.survey_settings",
            "DJANGO_ENV": "production",
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
            "SECURE_SSL_REDIRECT": "false",
            "BENCH_ENDPOINTS": "true",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CELERY_BROKER_DIR": args.broker_dir,
            "LOG_LEVEL": "WARNING",
            "AXES_ENABLED": "false",
        }
    )
    return env


def prepare_database(args) -> None:
    import psycopg

    admin_url, name = args.database_url.rsplit("/", 1)
    name = name.split("?", 1)[0]  # the database `--database-url` names, not always the default
    with psycopg.connect(admin_url + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    from bench.views import FLOOR_TABLE_SQL

    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute(FLOOR_TABLE_SQL)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=server_env(args),
        check=True,
    )


def seed(count: int) -> tuple[list[str], list[dict]]:
    """`count` fresh invitations with one link each; returns the tokens and the answer forms."""
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Team, User
    from bench.views import FLOOR_TABLE
    from feedback.models import InvitationLink, SurveyInvitation, SurveyKind
    from feedback.services import active_survey
    from finance_projects.models import Alert, Client, Contact, FinancingProject
    from finance_projects.tokens import hash_token, new_token

    survey = active_survey(SurveyKind.RELATIONSHIP)
    with transaction.atomic():
        team, _ = Team.objects.get_or_create(name="Bench survey team")
        rm, _ = User.objects.get_or_create(
            username="bench.survey.rm", defaults={"team": team, "first_name": "Bench", "last_name": "RM"}
        )
        client, _ = Client.objects.get_or_create(
            name="Bench survey client", team=team, defaults={"relationship_manager": rm}
        )
        contact, _ = Contact.objects.get_or_create(
            client=client, email="bench@client.example", defaults={"name": "Bench"}
        )
        project, _ = FinancingProject.objects.get_or_create(
            code=PROJECT_CODE,
            defaults={
                "client": client,
                "name": "Bench wind farm",
                "amount": 1,
                "relationship_manager": rm,
                "team": team,
            },
        )
        SurveyInvitation.objects.filter(project=project).delete()
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {FLOOR_TABLE}")
        Alert.objects.filter(project=project).delete()
        now = timezone.now()
        invitations = SurveyInvitation.objects.bulk_create(
            [
                SurveyInvitation(
                    project=project,
                    contact=contact,
                    survey=survey,
                    trigger="manual",
                    stage=project.stage,
                    created_at=now,
                    sent_at=now,
                    expires_at=now + timezone.timedelta(days=30),
                )
                for _ in range(count)
            ],
            batch_size=1000,
        )
        tokens = [new_token() for _ in invitations]
        InvitationLink.objects.bulk_create(
            [
                InvitationLink(invitation=i, token_hash=hash_token(t))
                for i, t in zip(invitations, tokens, strict=True)
            ],
            batch_size=1000,
        )
    forms = []
    for nps, comment in ANSWERS:
        fields = {}
        for question in survey.questions.all():
            if question.type == "nps":
                fields[f"q_{question.pk}"] = str(nps)
            elif question.type == "text" and comment:
                fields[f"q_{question.pk}"] = comment
            elif question.type == "choice":
                fields[f"q_{question.pk}"] = "yes" if nps <= 6 else "no"
        forms.append(fields)
    return tokens, forms


def _bench_responses():
    from feedback.models import SurveyResponse

    return SurveyResponse.objects.filter(invitation__project__code=PROJECT_CODE, submitted_at__isnull=False)


def stored_count() -> tuple[int, int]:
    from django.db.models import Count

    responses = _bench_responses()
    duplicates = (
        responses.values("invitation_id").annotate(n=Count("id")).filter(n__gt=1).count()
    )  # the unique constraint makes this 0; checked anyway
    return responses.count(), duplicates


def purge_queue() -> int:
    """Drop tasks a previous run left behind (their responses were deleted with the seed)."""
    from cem.celery import app

    return app.control.purge() or 0


def drain(args, timeout: float = 300.0) -> dict:
    """A Celery worker processes the stored responses it was woken for; returns counts and the time taken."""
    from finance_projects.models import Alert

    responses = _bench_responses()
    command = [
        sys.executable, "-m", "celery", "-A", "cem", "worker", "--queues", "bench-survey",
        "--pool", "solo", "--loglevel", "warning", "--without-gossip", "--without-mingle",
        "--without-heartbeat",
    ]  # fmt: skip
    started = time.monotonic()
    worker = subprocess.Popen(command, cwd=ROOT, env=server_env(args), start_new_session=True)
    try:
        while responses.filter(processed_at__isnull=True).exists():
            if time.monotonic() - started > timeout or worker.poll() is not None:
                break
            time.sleep(0.5)
        took = time.monotonic() - started
    finally:
        stop_server(worker)
    detractors = set(responses.filter(is_detractor=True).values_list("pk", flat=True))
    alerts = list(
        Alert.objects.filter(kind="detractor_response", project__code=PROJECT_CODE).values_list(
            "subject_id", flat=True
        )
    )
    return {
        "seconds": took,
        "unprocessed": responses.filter(processed_at__isnull=True).count(),
        "tagged": responses.exclude(categories=[]).count(),
        "detractors": len(detractors),
        "alerts_ok": sorted(alerts) == sorted(detractors),
    }


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def start_server(args) -> subprocess.Popen:
    if not port_is_free(args.port):
        raise SystemExit(f"port {args.port} is taken by another server: pass --port")
    command = [
        sys.executable, "-m", "gunicorn", "cem.wsgi:application",
        "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers),
        "--worker-class", args.worker_class, "--threads", str(args.worker_threads),
        "--log-level", "warning", "--access-logfile", "-" if args.access_log else "/dev/null",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=server_env(args), start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{args.port}/bench/bare", timeout=1).read()
            return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    stop_server(server)
    raise SystemExit("gunicorn did not answer within 30 s")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


WRK_SCRIPT = r"""
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
local bodies = {%(bodies)s}
local threads = {}
local step = %(threads)d
counter = 0
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  accepted, other, errors = 0, 0, 0
end
function request()
  local index = id + 1 + counter * step
  counter = counter + 1
  local token = tokens[((index - 1) %% #tokens) + 1]
  return wrk.format("POST", "%(prefix)s" .. token .. "/", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, bodies[(index %% #bodies) + 1])
end
function response(status, headers, body)
  if status == 302 then accepted = accepted + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local a, o, last = 0, 0, 0
  for _, thread in ipairs(threads) do
    a = a + thread:get("accepted")
    o = o + thread:get("other")
    -- the highest link index this thread sent (in-flight requests included)
    local sent = thread:get("id") + 1 + (thread:get("counter") - 1) * step
    if sent > last then last = sent end
  end
  io.write(string.format("ACCEPTED %%d OTHER %%d LAST %%d\n", a, o, last))
end
"""


def run_wrk(args, url: str, script: str | None) -> dict:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if script:
        command += ["-s", script]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for label, key in (("50%", "p50"), ("99%", "p99")):
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
        result[key] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    result["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx_3xx"] = int(errors.group(1)) if errors else 0
    accepted = re.search(r"ACCEPTED (\d+) OTHER (\d+) LAST (\d+)", out)
    if accepted:
        result["accepted"], result["other"] = int(accepted.group(1)), int(accepted.group(2))
        result["links_used"] = int(accepted.group(3))
    return result


def run_threads(args, make_request) -> dict:
    """A bounded thread-pool client for machines without wrk."""
    latencies, statuses, lock = [], [], threading.Lock()
    deadline = time.monotonic() + args.duration
    counter = iter(range(10**9))

    def worker():
        while time.monotonic() < deadline:
            number = next(counter)
            started = time.perf_counter()
            try:
                status = make_request(number)
            except Exception:
                status = 0
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                statuses.append(status)

    started = time.monotonic()
    workers = [threading.Thread(target=worker) for _ in range(args.connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    took = time.monotonic() - started
    latencies.sort()
    return {
        "rps": len(latencies) / took,
        "p50": statistics.median(latencies) if latencies else 0.0,
        "p99": latencies[int(len(latencies) * 0.99) - 1] if latencies else 0.0,
        "requests": len(latencies),
        "accepted": statuses.count(302),
        "other": len(statuses) - statuses.count(302),
        "links_used": len(statuses),  # request n takes link n
    }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=int, default=30000, help="invitations seeded (one submission each)")
    parser.add_argument("--pairs", type=int, default=4, help="rounds of bare, floor and survey phases")
    parser.add_argument("--duration", type=int, default=3, help="seconds per phase (whole seconds)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    # What the Dockerfile runs: gunicorn's (2 x cores) + 1 sync workers. A submission waits on
    # PostgreSQL (and Redis) for part of its time; workers beyond the cores keep them busy then.
    parser.add_argument("--workers", type=int, default=5, help="gunicorn workers (as the Dockerfile)")
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    parser.add_argument("--worker-threads", type=int, default=1, help="threads per gthread worker")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--access-log", action="store_true")
    parser.add_argument("--client", choices=["auto", "wrk", "threads"], default="auto")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""), help="cache and broker (default: none)"
    )
    args = parser.parse_args()
    broker_dir = tempfile.TemporaryDirectory(prefix="cem-bench-broker-")
    args.broker_dir = broker_dir.name
    for name, value in server_env(args).items():
        os.environ[name] = value
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))

    prepare_database(args)
    tokens, forms = seed(args.scale)
    purge_queue()
    bodies = [urllib.parse.urlencode({**fields, "action": "submit"}) for fields in forms]
    server = start_server(args)
    base = f"http://127.0.0.1:{args.port}"
    try:
        # Warm every worker (imports, connections, the survey's questions) on links not measured.
        warm = tokens[: args.workers * 4]
        tokens = tokens[len(warm) :]
        opener = urllib.request.build_opener(_NoRedirect)

        def post(token: str, number: int = 0, prefix: str = SURVEY_PREFIX) -> int:
            body = bodies[number % len(bodies)]
            request = urllib.request.Request(f"{base}{prefix}{token}/", data=body.encode())
            try:
                return opener.open(request, timeout=10).status
            except urllib.error.HTTPError as error:
                return error.code

        warm_statuses = [post(token, number) for number, token in enumerate(warm)]
        warm_statuses += [post(token, number, FLOOR_PREFIX) for number, token in enumerate(warm)]
        if set(warm_statuses) != {302}:
            raise SystemExit(f"warm-up submissions were not accepted: {sorted(set(warm_statuses))}")

        with tempfile.TemporaryDirectory() as tmp:
            rounds = []
            used = 0  # links consumed by the survey phases so far
            for _round in range(args.pairs):
                fresh = tokens[used:]
                if use_wrk:
                    token_file = Path(tmp) / "tokens.txt"
                    token_file.write_text("\n".join(fresh) + "\n")
                    scripts = {}
                    for prefix in (FLOOR_PREFIX, SURVEY_PREFIX):
                        scripts[prefix] = Path(tmp) / f"post{len(scripts)}.lua"
                        scripts[prefix].write_text(
                            WRK_SCRIPT
                            % {
                                "tokens": token_file,
                                "bodies": ", ".join(json.dumps(body) for body in bodies),
                                "threads": args.threads,
                                "prefix": prefix,
                            }
                        )
                    bare = run_wrk(args, f"{base}/bench/bare", None)
                    floor = run_wrk(args, base, str(scripts[FLOOR_PREFIX]))
                    survey = run_wrk(args, base, str(scripts[SURVEY_PREFIX]))
                else:
                    bare = run_threads(
                        args, lambda n: urllib.request.urlopen(f"{base}/bench/bare", timeout=10).status
                    )
                    floor = run_threads(
                        args, lambda n, fresh=fresh: post(fresh[n % len(fresh)], n, FLOOR_PREFIX)
                    )
                    survey = run_threads(args, lambda n, fresh=fresh: post(fresh[n % len(fresh)], n))
                used += survey["links_used"]
                rounds.append({"bare": bare, "floor": floor, "survey": survey})
    finally:
        stop_server(server)

    stored, duplicates = stored_count()
    drained = drain(args)
    broker_dir.cleanup()
    report(args, use_wrk, rounds, stored=stored, duplicates=duplicates, drained=drained, warm=len(warm))
    if used > len(tokens):
        print(f"note: {used - len(tokens)} requests reused a link (raise --scale): answered 200")


def _overall(phases: list[dict]) -> dict:
    """Phases of one kind together: requests over their summed time; the median of their p50s
    and the worst of their p99s (wrk reports percentiles per run, not the samples)."""
    seconds = sum(phase["requests"] / phase["rps"] for phase in phases if phase["rps"])
    return {
        "rps": sum(phase["requests"] for phase in phases) / seconds if seconds else 0.0,
        "p50": statistics.median(phase["p50"] for phase in phases),
        "p99": max(phase["p99"] for phase in phases),
        "requests": sum(phase["requests"] for phase in phases),
    }


def _latency(phase: dict) -> str:
    return f"{phase['p50']:.1f}/{phase['p99']:.1f}"


def report(args, use_wrk, rounds, *, stored: int, duplicates: int, drained: dict, warm: int) -> None:
    def ratios_of(over: str, under: str) -> list[float]:
        return [r[over]["rps"] / r[under]["rps"] if r[under]["rps"] else 0.0 for r in rounds]

    ratios = ratios_of("survey", "bare")
    ratio = statistics.median(ratios)
    floor_ratios, to_floor = ratios_of("floor", "bare"), ratios_of("survey", "floor")
    overall = {kind: _overall([r[kind] for r in rounds]) for kind in KINDS}
    accepted = sum(r["survey"].get("accepted", 0) for r in rounds) + warm
    client = "wrk" if use_wrk else "threads"
    server = f"{args.workers} {args.worker_class} workers" + (
        f" x {args.worker_threads} threads" if args.worker_class == "gthread" else ""
    )
    print(
        f"client: {client}, {args.connections} connections, {args.pairs} rounds of "
        f"{args.duration}s bare + {args.duration}s floor + {args.duration}s survey phases, {server}"
    )
    print(
        f"{'round':<7}{'bare/s':>9}{'floor/s':>9}{'survey/s':>10}{'survey/bare':>13}{'floor/bare':>12}"
        f"{'survey/floor':>14}{'bare p50/p99':>15}{'floor p50/p99':>16}{'survey p50/p99':>17}"
    )
    for number, r in enumerate(rounds, start=1):
        b, f, s = r["bare"], r["floor"], r["survey"]
        print(
            f"{number:<7}{b['rps']:>9.1f}{f['rps']:>9.1f}{s['rps']:>10.1f}{ratios[number - 1]:>13.0%}"
            f"{floor_ratios[number - 1]:>12.0%}{to_floor[number - 1]:>14.0%}"
            f"{_latency(b):>15}{_latency(f):>16}{_latency(s):>17}"
        )
    print(f"{'phase':<8}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}   (all phases of a kind)")
    for name, result in overall.items():
        print(
            f"{name:<8}{result['rps']:>10.1f}{result['p50']:>10.1f}{result['p99']:>10.1f}{result['requests']:>10}"
        )
    print(
        f"ratio survey/bare: {ratio:.0%} median of {len(rounds)} rounds "
        f"(min {min(ratios):.0%}, max {max(ratios):.0%}; "
        f"totals {overall['survey']['rps'] / overall['bare']['rps']:.0%}; target >= {TARGET_RATIO:.0%})"
    )
    print(
        f"floor/bare: {statistics.median(floor_ratios):.0%} (one INSERT and its commit, nothing else); "
        f"survey/floor: {statistics.median(to_floor):.0%} (medians of {len(rounds)} rounds)"
    )
    if not use_wrk:
        # The Python client burns CPU on this machine for every request of either kind, a cost
        # both sides share: it lifts the ratio (43 % here against 33 % with wrk, same commit).
        print("note: measured with the thread client, not comparable with the target; install wrk")
    # wrk stops counting at each phase's deadline while up to one request per connection is
    # still being served: those are stored but not counted as accepted.
    in_flight = stored - accepted
    print(
        f"accepted submissions: {accepted}, stored responses: {stored} "
        f"(in flight at the phase deadlines: {in_flight}), invitations answered twice: {duplicates}"
    )
    print(
        f"after the responses: a worker processed {stored - drained['unprocessed']} of {stored} in "
        f"{drained['seconds']:.1f}s ({drained['tagged']} tagged, {drained['detractors']} detractors, "
        f"one alert each: {'yes' if drained['alerts_ok'] else 'NO'})"
    )
    print(
        json.dumps(
            {
                "rounds": rounds,
                **overall,
                "ratio": round(ratio, 3),
                "round_ratios": [round(r, 3) for r in ratios],
                "floor_ratio": round(statistics.median(floor_ratios), 3),
                "survey_to_floor": round(statistics.median(to_floor), 3),
                "stored": stored,
                "processed": drained,
            }
        )
    )
    if duplicates or not 0 <= in_flight <= args.connections * len(rounds):
        raise SystemExit("FAILED: accepted submissions and stored responses do not match")
    if drained["unprocessed"] or not drained["alerts_ok"]:
        raise SystemExit("FAILED: the work after the responses was not done exactly once")


if __name__ == "__main__":
    main()
