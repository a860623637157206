"""Read-replica drill (issue 15): a real streaming replica of the local PostgreSQL, and the load against both.

    .venv/bin/python bench/replica_drill.py                     # as root, on the machine of the primary
    .venv/bin/python bench/replica_drill.py --keep              # keep the seeded database for the next run
    .venv/bin/python bench/replica_drill.py --reuse --seconds 15   # ... and reuse it (no 5-minute seed)

Run it as root (it runs PostgreSQL's tools as the ``postgres`` OS user) or as ``postgres``, on the machine of
the primary that ``DATABASE_URL`` names (default ``postgres://postgres@127.0.0.1:5432/postgres``). What it does
(docs/performance.md "Read replicas and PgBouncer", docs/deployment.md "Read replicas"):

1. checks the primary can stream (``wal_level`` replica or logical, ``max_wal_senders`` > 0: changing those needs
   a restart, which the script never does — it stops with the two lines to set) and that ``pg_hba.conf`` lets a
   replication connection in from 127.0.0.1; if not, and it runs as root, it appends
   ``host replication all 127.0.0.1/32 trust`` (``--replication-auth``) to the primary's ``pg_hba.conf`` and
   reloads it (no restart), saying so — the line stays for the next drill;
2. creates the database ``--db`` (DROPPED first; ``--reuse`` takes one a ``--keep`` run left), migrates it and
   builds the demo school (``seed_demo --students``), then ``ANALYZE``;
3. takes a base backup of the primary (``pg_basebackup -R -X stream -c fast``) into ``var/replica-drill-*``
   and starts it as a hot standby on ``--replica-port`` (5433) with a configuration of its own, waiting until
   it has replayed everything;
4. starts gunicorn with ``DATABASE_REPLICA_URLS`` pointing at it (``REPLICA_CHECK_SECONDS=1`` so each phase
   shows its effect within a second) and runs wrk over the read-only pages (parents' and students' diary weeks,
   the students' timetables, the deputy's reports) in four phases, counting every transaction each server ran
   for the database (``pg_stat_database``, after the statistics are flushed):

   - **both up**: the share of the transactions the replica ran;
   - **replica stopped** (``pg_ctl stop -m fast`` a few seconds into the load): errors and non-200 answers;
   - **replica lagging**: replay paused (``pg_wal_replay_pause()``) while the primary writes a tick every
     0.2 s; a timeline of the replica's lag and the transactions it ran per second: none once the lag passes
     ``REPLICA_MAX_LAG_SECONDS``;
   - **read your writes**: with replay paused and the lag still within the bound, the school's admin saves the
     diary settings (a POST) and reloads the page: with the session's pin cookie the page shows the saved value
     (read from the primary); the same session without the pin cookie sees the replica's older value — which
     is what the pin is there for;

5. stops gunicorn, stops the replica and deletes its files (also on failure or Ctrl-C), drops the database
   (``--keep`` keeps it) and exits non-zero if any check failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from diary_load import LUA, free_port, recreate_database, run, server_env, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent

# The lag the router computes (core/replicas.py LAG_SQL), repeated here so the timeline shows what it sees.
LAG_SQL = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)

# Printed by ``manage.py shell``: the read-only pages of the demo school with a session for each (force_login,
# as a login would make it: login_storm.py measures password hashes), and the admin who may save the settings.
PERSONAS = r"""
import datetime as dt, json
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string
from classbook.people.models import GuardianLink, Membership, Role, Student, User
from classbook.schools.models import School
today = timezone.localdate()
week = today - dt.timedelta(days=today.weekday() + 7)  # last week: a full week of the journal
school = School.objects.order_by("pk").first()
s = f"/s/{school.slug}"
def session(user):
    client = Client()
    client.force_login(user)
    csrf = get_random_string(32)
    return (f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}; "
            f"{settings.CSRF_COOKIE_NAME}={csrf}"), csrf
pages = []
parents = {}
for link in GuardianLink.objects.filter(school=school, may_see=True).select_related("guardian").order_by("pk"):
    parents.setdefault(link.guardian_id, []).append(link.student_id)
    if len(parents) > PARENTS:
        break
for guardian, children in list(parents.items())[:PARENTS]:
    cookie, _ = session(User.objects.get(pk=guardian))
    pages += [[f"{s}/diary/{c}/week/{week}/", cookie] for c in children]
for st in Student.objects.filter(school=school, user__isnull=False).select_related("user").order_by("pk")[:STUDENTS]:
    cookie, _ = session(st.user)
    pages += [[f"{s}/diary/{st.pk}/week/{week}/", cookie], [f"{s}/timetable/my/", cookie]]
deputy = Membership.objects.filter(school=school, role=Role.DEPUTY, is_active=True).select_related("user").first()
cookie, _ = session(deputy.user)
pages += [[f"{s}/reports/progress/", cookie], [f"{s}/reports/attendance/", cookie]]
admin = Membership.objects.filter(school=school, role=Role.ADMIN, is_active=True).select_related("user").first()
cookie, csrf = session(admin.user)
print("JSON " + json.dumps({"pages": pages, "settings": f"{s}/diary/settings/", "admin_cookie": cookie,
                            "admin_csrf": csrf}))
"""


def as_postgres(command: list[str]) -> list[str]:
    """The command run as the ``postgres`` OS user (PostgreSQL refuses to run its server as root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    if pwd.getpwuid(os.geteuid()).pw_name == "postgres":
        return command
    sys.exit("run the drill as root or as the postgres OS user: it starts a PostgreSQL server of its own")


def sh(command: list[str], **kwargs: object) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs).stdout  # type: ignore[call-overload]  # noqa: S603


def db_url(base: str, name: str, port: int | None = None) -> str:
    parts = urllib.parse.urlsplit(base)
    netloc = parts.netloc if port is None else f"{parts.netloc.rsplit(':', 1)[0]}:{port}"
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}", netloc=netloc))


def query(url: str, sql: str, params: list[object] | None = None) -> list[tuple]:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def check_primary(base: str, replication_auth: str) -> Path:
    """Stop if the primary cannot stream; let replication connections in from 127.0.0.1 if pg_hba.conf does not.
    Returns the directory of the PostgreSQL binaries of the primary's major version."""
    rows = dict(
        query(
            db_url(base, "postgres"),
            "SELECT name, setting FROM pg_settings WHERE name IN ('wal_level', 'max_wal_senders', 'hba_file',"
            " 'server_version_num')",
        )
    )
    if rows["wal_level"] not in ("replica", "logical") or int(rows["max_wal_senders"]) < 1:
        sys.exit(
            "the primary cannot stream WAL: set wal_level = replica and max_wal_senders = 10 in its postgresql.conf"
            " and restart it (the drill never restarts a server), then run the drill again"
        )
    pg_bin = Path(f"/usr/lib/postgresql/{int(rows['server_version_num']) // 10000}/bin")
    if not (pg_bin / "pg_basebackup").exists():
        sys.exit(f"no {pg_bin}/pg_basebackup: the drill needs PostgreSQL's server binaries (Debian's layout)")
    rules = query(
        db_url(base, "postgres"),
        "SELECT 1 FROM pg_hba_file_rules WHERE type = 'host' AND error IS NULL AND 'replication' = ANY(database)",
    )
    if not rules:
        line = f"host replication all 127.0.0.1/32 {replication_auth}"
        if os.geteuid() != 0:
            sys.exit(f"pg_hba.conf of the primary lets no replication connection in: add\n    {line}\nand reload it")
        print(f"pg_hba.conf of the primary ({rows['hba_file']}) lets no replication connection in: appending")
        print(f"    {line}\nand reloading the primary (no restart); the line stays for the next drill")
        with open(rows["hba_file"], "a") as hba:
            hba.write(f"\n# bench/replica_drill.py: streaming replicas on this machine (issue 15)\n{line}\n")
        query(db_url(base, "postgres"), "SELECT pg_reload_conf()")
        time.sleep(1)
    return pg_bin


class Replica:
    """A hot standby of the primary in ``var/replica-drill-*``, on its own port; ``stop()``/``remove()``."""

    def __init__(self, base: str, pg_bin: Path, port: int) -> None:
        self.base, self.pg_bin, self.port = base, pg_bin, port
        var = ROOT / "var"
        var.mkdir(exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix="replica-drill-", dir=var))
        shutil.chown(self.dir, "postgres", "postgres")
        self.dir.chmod(0o700)
        self.running = False

    def create(self) -> None:
        primary = urllib.parse.urlsplit(self.base)
        t0 = time.perf_counter()
        sh(
            as_postgres(
                [
                    str(self.pg_bin / "pg_basebackup"),
                    *("-h", primary.hostname or "127.0.0.1", "-p", str(primary.port or 5432)),
                    *("-U", primary.username or "postgres", "-D", str(self.dir / "data")),
                    *("-R", "-X", "stream", "-c", "fast", "--no-sync"),
                ]
            )
        )
        size = sh(["du", "-sh", str(self.dir / "data")]).split()[0]
        print(f"base backup of the primary ({size}) taken in {time.perf_counter() - t0:.0f} s into {self.dir}")
        settings = dict(
            query(
                db_url(self.base, "postgres"),
                "SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', 'max_worker_processes',"
                " 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction')",
            )
        )
        # The base backup holds postgresql.auto.conf (with primary_conninfo, from -R) and standby.signal; the
        # rest of the configuration (Debian keeps it in /etc) is the standby's own. The limits a standby needs at
        # least as high as its primary's are copied; hot_standby_feedback keeps the primary's vacuum from
        # cancelling the replica's reads.
        (self.dir / "data" / "postgresql.conf").write_text(
            "\n".join(
                [
                    "listen_addresses = '127.0.0.1'",
                    f"port = {self.port}",
                    f"unix_socket_directories = '{self.dir}'",
                    "hot_standby = on",
                    "hot_standby_feedback = on",
                    "shared_buffers = 128MB",
                    "fsync = off",
                    "log_min_messages = warning",
                    *(f"{k} = {v}" for k, v in settings.items()),
                    "",
                ]
            )
        )
        (self.dir / "data" / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        (self.dir / "data" / "pg_ident.conf").write_text("")
        for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
            shutil.chown(self.dir / "data" / name, "postgres", "postgres")

    def start(self) -> None:
        sh(
            as_postgres(
                [
                    str(self.pg_bin / "pg_ctl"),
                    "-D",
                    str(self.dir / "data"),
                    "-l",
                    str(self.dir / "log"),
                    "-w",
                    "-t",
                    "120",
                    "start",
                ]
            )
        )
        self.running = True

    def stop(self) -> None:
        if self.running:
            sh(as_postgres([str(self.pg_bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"]))
            self.running = False

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, db: str) -> str:
        return db_url(self.base, db, self.port)

    def wait_caught_up(self, db: str, timeout: float = 120) -> float:
        """Wait until the replica has replayed all the WAL the primary has written now; seconds waited."""
        target = query(db_url(self.base, db), "SELECT pg_current_wal_lsn()::text")[0][0]
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            with contextlib.suppress(Exception):
                if query(self.url(db), "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])[0][0]:
                    return time.perf_counter() - t0
            time.sleep(0.2)
        raise RuntimeError(f"the replica did not catch up in {timeout:.0f} s (log: {self.dir / 'log'})")


def counts(url: str, db: str) -> tuple[int, int] | None:
    """Transactions (committed and rolled back) the server ran in ``db`` and the rows its reads returned
    (``tup_returned + tup_fetched``), or None when it does not answer."""
    try:
        row = query(
            url,
            "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched FROM pg_stat_database WHERE datname = %s",
            [db],
        )[0]
    except Exception:
        return None
    return int(row[0]), int(row[1])


def xacts(url: str, db: str) -> int | None:
    found = counts(url, db)
    return found[0] if found else None


@contextlib.contextmanager
def ticking(primary_url: str, every: float = 0.2) -> Iterator[None]:
    """A write on the primary every ``every`` seconds (one row of the drill's table), so a paused replica lags."""
    import psycopg

    stop = threading.Event()
    with psycopg.connect(primary_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS replica_drill_tick (id int PRIMARY KEY, at timestamptz)")
        conn.execute("INSERT INTO replica_drill_tick VALUES (1, now()) ON CONFLICT (id) DO NOTHING")

        def tick() -> None:
            while not stop.wait(every):
                conn.execute("UPDATE replica_drill_tick SET at = now() WHERE id = 1")

        thread = threading.Thread(target=tick, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def wrk(base: str, targets: Path, seconds: int, threads: int, connections: int) -> subprocess.Popen[str]:
    command = ["wrk", "-t", str(threads), "-c", str(connections), "--timeout", "10s", "-d", f"{seconds}s"]
    command += ["--latency", "-s", str(targets.parent / "drill.lua"), base, "--", str(targets)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603


def result(out: str) -> dict[str, float]:
    found = re.search(r"RESULT (.+)", out)
    if not found:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    return {k: float(v) for k, v in (pair.split("=") for pair in found.group(1).split())}


def phase(
    name: str,
    args: argparse.Namespace,
    base: str,
    targets: Path,
    primary_url: str,
    replica_url: str,
    during: Callable[[float], None] | None = None,
    seconds: int | None = None,
) -> dict[str, float]:
    """wrk over the pages for ``seconds``; ``during(t0)`` runs meanwhile; transactions per server over the run."""
    seconds = seconds or args.seconds
    before = (counts(primary_url, args.db), counts(replica_url, args.db))
    load0 = os.getloadavg()[0]
    t0 = time.monotonic()
    process = wrk(base, targets, seconds, args.threads, args.connections)
    if during:
        during(t0)
    out, _ = process.communicate(timeout=seconds + 60)
    figures = result(out)
    # Backends flush their statistics when idle, at most every second, else after 10 s: wait them out.
    time.sleep(11)
    after = (counts(primary_url, args.db), counts(replica_url, args.db))
    primary = [a - b for a, b in zip(after[0] or (0, 0), before[0] or (0, 0), strict=True)]
    replica = [a - b for a, b in zip(after[1], before[1], strict=True)] if after[1] and before[1] else None
    figures |= {"primary_xacts": primary[0], "primary_rows": primary[1]}
    share = "replica not counted (down at the start or the end)"
    if replica is not None:
        figures |= {"replica_xacts": replica[0], "replica_rows": replica[1]}
        figures["replica_share"] = replica[0] / max(primary[0] + replica[0], 1)
        figures["replica_rows_share"] = replica[1] / max(primary[1] + replica[1], 1)
        share = (
            f"replica {replica[0]} ({figures['replica_share']:.0%}); rows read: primary {primary[1]}, "
            f"replica {replica[1]} ({figures['replica_rows_share']:.0%})"
        )
    print(
        f"[{name}] {figures['requests']:.0f} requests in {seconds} s: {figures['rps']:.1f}/s, "
        f"p50 {figures['p50']:.0f} ms, p95 {figures['p95']:.0f} ms, p99 {figures['p99']:.0f} ms, "
        f"errors {figures['errors']:.0f}, non-200 {figures['non200']:.0f}; transactions: primary {primary[0]}, "
        f"{share}; load {load0:.1f} → {os.getloadavg()[0]:.1f}"
    )
    return figures


def show_average(base: str, path: str, cookie: str) -> bool:
    request = urllib.request.Request(base + path, headers={"Cookie": cookie})  # noqa: S310 - http://127.0.0.1
    page = urllib.request.urlopen(request, timeout=30).read().decode()  # noqa: S310
    field = re.search(r"<input[^>]*name=\"show_average\"[^>]*>", page)
    assert field, "no show_average field on the diary settings page"
    return " checked" in field.group(0)


def save_show_average(base: str, path: str, cookie: str, csrf: str, value: bool) -> str:
    """POST the diary settings as the admin; the pin cookie the answer set (read your writes; "" without
    replicas: the pin's middleware is installed only with them)."""
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, **({"show_average": "on"} if value else {})})
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1
        base + path, data=data.encode(), headers={"Cookie": cookie, "Referer": base + path}
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(request, timeout=30)
    except urllib.error.HTTPError as exc:  # the 302 after a successful save
        response = exc
    assert response.status == 302, f"saving the diary settings answered {response.status}"
    pin = re.search(r"cb_primary=([^;]+)", response.headers.get("Set-Cookie", ""))
    return f"cb_primary={pin.group(1)}" if pin else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("BENCH_DB_NAME", "bench_replica_drill"))
    parser.add_argument("--students", type=int, default=300, help="size of the demo school")
    parser.add_argument("--replica-port", type=int, default=5433)
    parser.add_argument("--replication-auth", default="trust", help="auth method of the pg_hba.conf line, if added")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=6, help="wrk connections")
    parser.add_argument("--seconds", type=int, default=15, help="length of each load phase")
    parser.add_argument("--max-lag", type=float, default=5, help="REPLICA_MAX_LAG_SECONDS of the server")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the database a --keep run left")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))  # so the replica is stopped (finally)

    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    pg_bin = check_primary(base_url, args.replication_auth)
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", args.replica_port)) == 0:
            sys.exit(f"port {args.replica_port} is taken (another drill's replica?): --replica-port another")
    tmp = Path(tempfile.mkdtemp(prefix="classbook-replica-drill-"))
    primary_url = db_url(base_url, args.db)
    replica = Replica(base_url, pg_bin, args.replica_port)
    env = server_env(
        base_url,
        args.db,
        tmp,
        None,
        DATABASE_REPLICA_URLS=replica.url(args.db),
        REPLICA_CHECK_SECONDS="1",
        REPLICA_MAX_LAG_SECONDS=str(args.max_lag),
        REQUEST_LOG_LEVEL="WARNING",
        LOG_LEVEL="WARNING",
    )
    setup_env = {k: v for k, v in env.items() if k != "DATABASE_REPLICA_URLS"}
    server = None
    failures: list[str] = []
    try:
        if not args.reuse:
            t0 = time.perf_counter()
            recreate_database(base_url, args.db)
            run([PYTHON, "manage.py", "migrate", "--noinput"], setup_env)
            run([PYTHON, "manage.py", "seed_demo", "--students", str(args.students)], setup_env)
            query(primary_url, "ANALYZE")
            print(f"demo of {args.students} students on PostgreSQL built in {time.perf_counter() - t0:.0f} s")
        run([PYTHON, "manage.py", "collectstatic", "--noinput"], setup_env)
        personas = json.loads(
            run([PYTHON, "manage.py", "shell", "-c", "PARENTS, STUDENTS = 8, 8\n" + PERSONAS], setup_env).split(
                "JSON ", 1
            )[1]
        )

        replica.create()
        replica.start()
        print(f"replica started on port {args.replica_port}; caught up in {replica.wait_caught_up(args.db):.1f} s")
        replica_url = replica.url(args.db)

        port = free_port()
        server = subprocess.Popen(  # noqa: S603 - our own gunicorn
            [
                str(BIN / "gunicorn"),
                "classbook.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
            ],
            env=env,
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp / "gunicorn.log", "w"),  # noqa: SIM115 - lives as long as the server
        )
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)
        targets = tmp / "targets.txt"
        targets.write_text("".join(f"{path} {cookie}\n" for path, cookie in personas["pages"]))
        (tmp / "drill.lua").write_text(LUA)
        print(
            f"{len(personas['pages'])} pages (diary weeks, timetables, reports); gunicorn {args.workers} sync workers,"
            f" wrk {args.threads} threads × {args.connections} connections; {os.cpu_count()} CPUs; "
            f"REPLICA_MAX_LAG_SECONDS={args.max_lag:g}, REPLICA_CHECK_SECONDS=1"
        )
        phase("warm-up", args, base, targets, primary_url, replica_url, seconds=5)

        both = phase("both up", args, base, targets, primary_url, replica_url)
        if both["errors"] or both["non200"] or both.get("replica_share", 0) < 0.25:
            failures.append("both up: errors, or less than a quarter of the transactions on the replica")

        def stop_replica(t0: float) -> None:
            time.sleep(3)
            replica.stop()
            print(f"  replica stopped {time.monotonic() - t0:.1f} s into the load")

        down = phase("replica stopped", args, base, targets, primary_url, replica_url, during=stop_replica)
        if down["errors"] or down["non200"]:
            failures.append("replica stopped: errors or non-200 answers")
        replica.start()
        print(f"replica started again; caught up in {replica.wait_caught_up(args.db):.1f} s")

        timeline: list[tuple[float, float, int | None]] = []

        def pause_and_watch(t0: float) -> None:
            time.sleep(3)
            query(replica_url, "SELECT pg_wal_replay_pause()")
            paused = time.monotonic()
            last = xacts(replica_url, args.db)
            while time.monotonic() - t0 < args.seconds + 8:
                time.sleep(1)
                lag = float(query(replica_url, LAG_SQL)[0][0])
                now = xacts(replica_url, args.db)
                timeline.append((time.monotonic() - paused, lag, (now - last) if now is not None and last else None))
                last = now

        with ticking(primary_url):
            replica.wait_caught_up(args.db)
            lagging = phase(
                "replica lagging",
                args,
                base,
                targets,
                primary_url,
                replica_url,
                during=pause_and_watch,
                seconds=args.seconds + 10,
            )
        print("  seconds since replay paused → replica lag (s), transactions the replica ran in that second:")
        print("  " + "; ".join(f"{t:.0f}→{lag:.1f} s, {n}" for t, lag, n in timeline))
        late = sorted(n for t, lag, n in timeline if lag > args.max_lag + 2.5 and n is not None)
        # Beyond the bound (plus the check interval and a second of statistics' delay) the replica runs only the
        # router's own lag checks (one per worker per second) and the drill's (a backend that went quiet may
        # flush its last second's statistics later: the median, not the maximum).
        if lagging["errors"] or lagging["non200"] or not late or late[len(late) // 2] > args.workers + 3:
            failures.append("replica lagging: errors, or the replica kept serving reads beyond the bound")
        query(replica_url, "SELECT pg_wal_replay_resume()")
        replica.wait_caught_up(args.db)

        # Read your writes: replay paused a moment ago (the lag is small: within the bound), then a write.
        path, cookie, csrf = personas["settings"], personas["admin_cookie"], personas["admin_csrf"]
        own = stale = 0
        rounds = 3
        for _ in range(rounds):
            with ticking(primary_url):
                replica.wait_caught_up(args.db)
                before = show_average(base, path, cookie)
                query(replica_url, "SELECT pg_wal_replay_pause()")
                pin = save_show_average(base, path, cookie, csrf, not before)
                assert pin, "no pin cookie after a write"
                own += show_average(base, path, f"{cookie}; {pin}") == (not before)  # pinned: the primary
                stale += show_average(base, path, cookie) == before  # no pin: the lagging replica
                lag = float(query(replica_url, LAG_SQL)[0][0])
            query(replica_url, "SELECT pg_wal_replay_resume()")
            time.sleep(1.5)
        print(
            f"[read your writes] {rounds} saves of the diary settings with replay paused (lag {lag:.1f} s, within"
            f" the bound): the writer's session read its own write {own}/{rounds} times; the same session without"
            f" the pin cookie read the replica's older value {stale}/{rounds} times"
        )
        if own != rounds:
            failures.append("read your writes: the writer did not see its own write")
        log = (tmp / "gunicorn.log").read_text()
        print(
            f"gunicorn log: {log.count('Traceback')} tracebacks; the router's warnings: replica does not answer"
            f" {log.count('does not answer')}, replica behind {log.count('s behind')}, replica went away during a"
            f" page (served again from the primary) {log.count('went away')}"
        )
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        replica.remove()
        print("replica stopped and its files removed")
        if not args.keep:
            recreate_database(base_url, args.db, drop_only=True)
        else:
            with contextlib.suppress(Exception):
                query(primary_url, "DROP TABLE IF EXISTS replica_drill_tick")
            print(f"kept: database {args.db}")
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        sys.exit("FAILED: " + "; ".join(failures))
    print("all checks passed")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
