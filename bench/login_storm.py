"""The 8 a.m. login storm (issue 15): 1,000 logins arriving within a minute against gunicorn on PostgreSQL.

    .venv/bin/python bench/login_storm.py                                   # 1,000 logins in 60 s, 5 sync workers
    .venv/bin/python bench/login_storm.py --db bench_region_load --reuse    # on the database region_load kept
    .venv/bin/python bench/login_storm.py --logins 300 --within 20 --workers 3

What it does (docs/performance.md, "The login storm"):

1. builds (or with ``--reuse`` takes) a PostgreSQL database with the demo (``seed_demo --scale --students``);
2. starts gunicorn on 127.0.0.1 (``--workers`` sync workers as docs/deployment.md recommends, ``--gthreads N``
   for threaded ones) with Redis sessions, the hashing gate as configured (``HASHING_*`` from the environment),
   behind Debian's nginx (installed with apt-get when missing) stamping each arrival in ``X-Request-Start`` as
   docs/deployment.md configures it, so a login that queued longer than ``HASHING_QUEUE_SECONDS`` is refused
   before it hashes (``--direct``: gunicorn alone, nothing shed);
3. sends ``--logins`` logins of distinct students and parents (cycled when the demo has fewer), arriving evenly
   over ``--within`` seconds from ``--clients`` client threads: each gets the login page (CSRF) and posts the
   form, without following the redirect;
4. prints what came back: accepted logins (302) with p50/p95/p99, 429s and whether each carried ``Retry-After``,
   5xx, client timeouts (``--timeout``) and connection errors; hashes per second achieved; the CPU the workers
   used; the machine's load.

A 429 is not retried here: the point is that the server refuses at once instead of queueing without bound.
Loopback only; bounded by ``--within`` plus ``--timeout``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from diary_load import cpu_seconds, ensure_debian_package, free_port, recreate_database, run, server_env

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent

USERS = r"""
import json
from classbook.demo.generator import DEMO_PASSWORD
from classbook.people.models import Membership, Role
names = list(Membership.objects.filter(role__in=[Role.STUDENT, Role.PARENT], is_active=True)
             .order_by("pk").values_list("user__username", flat=True).distinct()[:LIMIT])
print("JSON " + json.dumps({"password": DEMO_PASSWORD, "users": names}))
"""


NGINX_CONF = """
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
{user}
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Request-Start "t=${{msec}}";
            proxy_read_timeout 120s;
        }}
    }}
}}
"""


def start_nginx(tmp: Path, upstream: int) -> tuple[subprocess.Popen, int]:
    """nginx in front of gunicorn as docs/deployment.md configures it: it stamps each request's arrival
    (``X-Request-Start``), so the hashing gate can refuse a login that queued too long instead of hashing it."""
    binary = ensure_debian_package("nginx", "nginx-light")
    port = free_port()
    conf = tmp / "nginx.conf"
    user = "user root root;" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, upstream=upstream, user=user))
    proxy = subprocess.Popen(  # noqa: S603 - Debian's nginx with our own configuration
        [binary, "-c", str(conf), "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return proxy, port


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def one_login(port: int, username: str, password: str, timeout: float) -> dict:
    """GET the login page, POST the form; the POST's status, Retry-After, and the whole login's seconds."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/accounts/login/")
        page = conn.getresponse()
        body = page.read().decode()
        if page.status != 200:
            return {"status": page.status, "retry_after": page.getheader("Retry-After"), "step": "page",
                    "seconds": time.perf_counter() - started}  # fmt: skip
        cookie = "; ".join(c.split(";", 1)[0] for c in page.headers.get_all("Set-Cookie") or [])
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1) if token else ""}
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
            "Referer": f"http://127.0.0.1:{port}/accounts/login/",
        }
        conn.request("POST", "/accounts/login/", body=form, headers=headers)
        answer = conn.getresponse()
        answer.read()
        return {"status": answer.status, "retry_after": answer.getheader("Retry-After"), "step": "post",
                "seconds": time.perf_counter() - started}  # fmt: skip
    except TimeoutError:
        return {"status": "timeout", "seconds": time.perf_counter() - started}
    except OSError as exc:
        return {"status": f"error {type(exc).__name__}", "seconds": time.perf_counter() - started}
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=1000)
    parser.add_argument("--within", type=float, default=60, help="seconds over which the logins arrive")
    parser.add_argument("--clients", type=int, default=200, help="client threads")
    parser.add_argument("--timeout", type=float, default=30, help="client timeout per request, seconds")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn workers (2 × cores + 1)")
    parser.add_argument("--gthreads", type=int, default=0, help="gthread workers with this many threads each")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--db", default="bench_login_storm")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10", help="REDIS_URL (its database is FLUSHED)")
    parser.add_argument(
        "--direct", action="store_true", help="no nginx in front: nothing stamps the arrival, nothing is shed"
    )
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    tmp = Path(tempfile.mkdtemp(prefix="classbook-storm-"))
    env = server_env(base_url, args.db, tmp, args.redis, REQUEST_LOG_LEVEL="WARNING")
    if not args.reuse:
        recreate_database(base_url, args.db)
    server = proxy = None
    try:
        if not args.reuse:
            run([PYTHON, "manage.py", "migrate", "--noinput"], env)
            run([PYTHON, "manage.py", "seed_demo", "--scale", str(args.scale), "--students", str(args.students)], env)
        run([PYTHON, "manage.py", "collectstatic", "--noinput"], env)
        import redis

        redis.Redis.from_url(args.redis).flushdb()
        out = run([PYTHON, "manage.py", "shell", "-c", f"LIMIT = {args.logins}\n" + USERS], env)
        data = json.loads(re.search(r"^JSON (.+)$", out, re.M).group(1))  # type: ignore[union-attr]
        users, password = data["users"], data["password"]

        port = free_port()
        server = subprocess.Popen(  # noqa: S603 - our own gunicorn
            [
                str(BIN / "gunicorn"), "classbook.wsgi:application", "--bind", f"127.0.0.1:{port}",
                "--workers", str(args.workers), "--timeout", "60", "--backlog", "2048",
                *(("--worker-class", "gthread", "--threads", str(args.gthreads)) if args.gthreads else ()),
            ],
            env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
            stderr=open(tmp / "gunicorn.log", "w"),  # noqa: SIM115 - lives as long as the server
        )  # fmt: skip
        if not args.direct:
            proxy, port = start_nginx(tmp, upstream=port)
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        for _ in range(args.workers * 2):  # every worker imports and connects before the storm
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10).read()

        results: list[dict] = []
        lock = threading.Lock()
        next_index = [0]
        load0 = os.getloadavg()[0]
        cpu0 = cpu_seconds(server.pid)
        t0 = time.perf_counter() + 0.5

        def client() -> None:
            while True:
                with lock:
                    i = next_index[0]
                    next_index[0] += 1
                if i >= args.logins:
                    return
                due = t0 + i * args.within / args.logins
                time.sleep(max(0.0, due - time.perf_counter()))
                result = one_login(port, users[i % len(users)], password, args.timeout)
                result["late"] = max(0.0, time.perf_counter() - result["seconds"] - due)
                with lock:
                    results.append(result)

        threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.within + 4 * args.timeout + 60)
        elapsed = time.perf_counter() - t0
        cpu = cpu_seconds(server.pid) - cpu0

        by_status: dict[str, int] = {}
        for r in results:
            by_status[str(r["status"])] = by_status.get(str(r["status"]), 0) + 1
        accepted = [r["seconds"] for r in results if r["status"] == 302]
        refused = [r for r in results if r["status"] == 429]
        server_errors = [r for r in results if isinstance(r["status"], int) and r["status"] >= 500]
        late = [r["late"] for r in results]
        wait = os.environ.get("HASHING_WAIT_SECONDS", "0.2")
        queue = os.environ.get("HASHING_QUEUE_SECONDS", "10")
        front = "no proxy (nothing shed)" if args.direct else f"nginx stamping arrivals, logins queued > {queue} s shed"
        print(
            f"{len(results)} logins of {len(set(users))} distinct users over {args.within:.0f} s "
            f"(last started {max(late):.1f} s late at most: {args.clients} client threads); gunicorn {args.workers} "
            f"{f'gthread workers × {args.gthreads}' if args.gthreads else 'sync workers'}; hashing slots "
            f"{os.environ.get('HASHING_SLOTS', '0 (= cores)')}, wait {wait} s, {front}; "
            f"{os.cpu_count()} CPUs, load average {load0:.1f} before / {os.getloadavg()[0]:.1f} after "
            "(a shared machine, not a quiet-machine figure)"
        )
        print("answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(by_status.items())))
        print(
            f"accepted (302): {len(accepted)}, p50 {pct(accepted, 50) * 1000:.0f} ms, "
            f"p95 {pct(accepted, 95) * 1000:.0f} ms, p99 {pct(accepted, 99) * 1000:.0f} ms, "
            f"max {max(accepted, default=0) * 1000:.0f} ms"
        )
        with_header = sum(1 for r in refused if r.get("retry_after"))
        print(
            f"refused (429): {len(refused)}, {with_header} with Retry-After "
            f"({', '.join(sorted({str(r.get('retry_after')) for r in refused})) or '-'} s); "
            f"p95 of a refusal {pct([r['seconds'] for r in refused], 95) * 1000:.0f} ms"
        )
        print(
            f"5xx: {len(server_errors)}; timeouts: {by_status.get('timeout', 0)}; "
            f"{len(accepted) / elapsed:.1f} accepted logins/s over {elapsed:.0f} s; gunicorn workers "
            f"{cpu:.0f} CPU-seconds ({cpu / max(len(accepted), 1) * 1000:.0f} ms per accepted login)"
        )
        if results:
            print(f"median whole-login time of all answers {statistics.median(r['seconds'] for r in results):.2f} s")
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(timeout=30)
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        if args.keep or args.reuse:
            print(f"kept: database {args.db}")
        else:
            recreate_database(base_url, args.db, drop_only=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
