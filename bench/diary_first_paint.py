"""First paint of the diary's week on a phone profile (issue 14: target ≤ 1.5 s; docs/performance.md).

Run from the repository root:

    .venv/bin/python bench/diary_first_paint.py                 # 300 students, 5 cold and 5 warm loads
    .venv/bin/python bench/diary_first_paint.py --students 1000 --runs 10

What it does, in a temporary folder (nothing of yours is touched):
1. builds the demo school on SQLite (``migrate``, ``seed_demo``) and collects the static files as production
   does (``STATIC_MANIFEST=1``: hashed names, gzip/Brotli copies that WhiteNoise serves, year-long caching);
2. serves it with gunicorn (``DEBUG=0``, 2 workers) on a free local port;
3. logs the demo parent in through the login form in Debian's chromium (Playwright), phone profile
   (390 × 844, device scale 3, touch, a phone's user agent), and for each run opens the week of the parent's
   first child with the network slowed as Chrome DevTools' "Slow 4G" preset (CDP
   ``Network.emulateNetworkConditions``: 562.5 ms latency, 1.44 Mbit/s down, 675 kbit/s up) and the CPU
   four times slower (CDP ``Emulation.setCPUThrottlingRate``);
4. reads the browser's own ``first-contentful-paint`` (and ``first-paint``) of each load: **cold** (a new
   browser context: no cached file, as the first visit) and **warm** (the same context again: CSS and
   scripts from the HTTP cache, the page itself from the network, as the next visit);
5. prints median and worst, and the bytes the page's HTML and its static files weighed over the wire.

A benchmark, not a test: it asserts nothing. Note the machine's load (``uptime``) with the figures.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
# Chrome DevTools' "Slow 4G" preset (the former "Fast 3G"), as Lighthouse's mobile profile.
SLOW_4G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1.6 * 1024 * 1024 / 8 * 0.9,
    "uploadThroughput": 750 * 1024 / 8 * 0.9,
}
PAINT = """() => {
  const e = Object.fromEntries(performance.getEntriesByType("paint").map(p => [p.name, p.startTime]));
  const nav = performance.getEntriesByType("navigation")[0];
  const res = performance.getEntriesByType("resource");
  return {fcp: e["first-contentful-paint"], fp: e["first-paint"], html: nav.transferSize,
          assets: res.reduce((n, r) => n + r.transferSize, 0)};
}"""


def run(args: list[str], env: dict[str, str]) -> str:
    return subprocess.run(args, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout  # noqa: S603


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def warm_up(base: str, workers: int = 2) -> None:
    """Wait until every worker has loaded the application (on a loaded machine a worker takes many seconds to
    import it; the master accepts connections before): a phone meets a running server, not a starting one."""
    deadline = time.monotonic() + 300

    def fetch(_: int) -> None:
        while True:
            try:
                with urllib.request.urlopen(f"{base}/accounts/login/", timeout=120) as answer:  # noqa: S310
                    answer.read()
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    for _ in range(2):  # concurrent requests reach both sync workers
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(fetch, range(workers * 2)))


def target(env: dict[str, str]) -> tuple[str, str, str, int]:
    """The school, the demo parent's login and their first child."""
    code = """
from classbook.demo.generator import DEMO_PASSWORD
from classbook.demo.logins import find_demo_logins
from classbook.people.models import GuardianLink
from classbook.schools.models import School
school = School.objects.order_by("pk").first()
parent = {l.key: l for l in find_demo_logins(school)}["parent"].username
child = GuardianLink.objects.filter(guardian__username=parent, may_see=True).order_by("student_id")[0].student_id
print("T", school.slug, parent, DEMO_PASSWORD, child)
"""
    line = re.search(r"^T (\S+) (\S+) (\S+) (\d+)$", run([PYTHON, "manage.py", "shell", "-c", code], env), re.M)
    assert line, "no demo parent"
    return line.group(1), line.group(2), line.group(3), int(line.group(4))


def throttled(context, page) -> None:  # type: ignore[no-untyped-def]
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})


def measure(base: str, slug: str, username: str, password: str, child: int, runs: int) -> dict[str, list[dict]]:
    from playwright.sync_api import sync_playwright

    today = time.strftime("%Y-%m-%d")
    url = f"{base}/s/{slug}/diary/{child}/week/{today}/"
    phone = {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 3,
        "is_mobile": True,
        "has_touch": True,
        "user_agent": PHONE_UA,
        "locale": "uk-UA",
        "service_workers": "block",  # the network's first paint, not the worker's copy
    }
    results: dict[str, list[dict]] = {"cold": [], "warm": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        login = browser.new_context(**phone)
        page = login.new_page()
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.locator("button[type=submit]").click()
        page.wait_for_load_state()
        state = login.storage_state()
        login.close()
        for _ in range(runs):
            context = browser.new_context(storage_state=state, **phone)
            page = context.new_page()
            throttled(context, page)
            for kind in ("cold", "warm"):
                response = page.goto(url, wait_until="load")
                assert response is not None and response.status == 200, (url, response and response.status)
                results[kind].append(page.evaluate(PAINT))
            context.close()
        browser.close()
    return results


def report(results: dict[str, list[dict]]) -> None:
    for kind, rows in results.items():
        fcp = [r["fcp"] for r in rows if r["fcp"] is not None]
        print(
            f"{kind:5} first contentful paint: median {statistics.median(fcp):5.0f} ms, worst {max(fcp):5.0f} ms "
            f"({len(fcp)} loads); HTML {rows[0]['html'] / 1024:.1f} KiB, "
            f"static files {rows[0]['assets'] / 1024:.1f} KiB over the wire"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sqlite", help="a copy of this seeded SQLite database instead of building the demo")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="classbook-paint-"))
    env = {
        **os.environ,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "CLASSBOOK_VAR_DIR": str(tmp),
        "STATIC_ROOT": str(tmp / "static"),
        "STATIC_MANIFEST": "1",
        "LOG_LEVEL": "ERROR",
        "PYTHONPATH": str(ROOT),
    }
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    t0 = time.perf_counter()
    if args.sqlite:
        shutil.copy(args.sqlite, tmp / "classbook.sqlite3")
    else:
        run([PYTHON, "manage.py", "migrate", "--noinput"], env)
        run([PYTHON, "manage.py", "seed_demo", "--students", str(args.students)], env)
    run([PYTHON, "manage.py", "collectstatic", "--noinput"], env)
    slug, username, password, child = target(env)
    print(f"demo ready in {time.perf_counter() - t0:.0f} s", flush=True)
    port = free_port()
    gunicorn = str(Path(PYTHON).parent / "gunicorn")
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn
        [gunicorn, "classbook.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--no-control-socket"],
        env=env,
        cwd=ROOT,
        stderr=open(tmp / "gunicorn.log", "w"),  # noqa: SIM115 - lives as long as the server
    )
    try:
        warm_up(f"http://127.0.0.1:{port}")
        results = measure(f"http://127.0.0.1:{port}", slug, username, password, child, args.runs)
    finally:
        server.terminate()
        server.wait()
    print(f"phone 390×844, CPU ×4, Slow 4G (latency {SLOW_4G['latency']} ms), load {os.getloadavg()[0]:.1f}")
    report(results)


if __name__ == "__main__":
    main()
