"""``scripts/serve`` with real processes: gunicorn, WhiteNoise and the task worker, DEBUG off, a kept secret key.

The script runs as a school's operator runs it (first run: the secret key, static files, the school and its
administrator), on a free loopback port with a temporary ``var/``; then a second run reuses it all. The database
is the tests' own, migrated (on PostgreSQL through ``DATABASE_URL``, as an operator would set it).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b")
DEBUG_LEAKS = ("Traceback", "SECRET_KEY", "DEBUG = True", "Django tried these URL patterns", "Using the URLconf")

pytestmark = pytest.mark.slow


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], str]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode()

    def children(self, marker: str) -> list[int]:
        """Processes the script started whose command line contains ``marker``."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.process.pid and marker in cmdline:
                found.append(int(entry.name))
        return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat_line.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def database_url(transactional_db: None, tmp_path: Path) -> str | None:
    """The test database, migrated already (a fresh ``migrate`` alone takes longer than this whole test).

    PostgreSQL: the script uses the test database itself (emptied after the test). SQLite: the in-memory test
    database is copied to ``var/classbook.sqlite3``, where the script finds it.
    """
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        user = settings["USER"] or "postgres"
        auth = f"{user}:{settings['PASSWORD']}@" if settings["PASSWORD"] else f"{user}@"
        return f"postgres://{auth}{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    connection.ensure_connection()
    copy = sqlite3.connect(var_dir / "classbook.sqlite3")
    connection.connection.backup(copy)
    copy.close()
    return None


def start(var_dir: Path, database_url: str | None) -> Server:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "SECRET_KEY_FILE", "DEBUG", "DATABASE_URL", "REDIS_URL", "STATIC_ROOT"}
    }
    port = free_port()
    env.update(
        CLASSBOOK_SKIP_SETUP="1",  # this interpreter's environment, not a new .venv
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        CLASSBOOK_VAR_DIR=str(var_dir),
        PORT=str(port),
        WEB_CONCURRENCY="1",
        SCHOOL_SLUG="lyceum-1",
        SCHOOL_NAME="Ліцей № 1",
        ADMIN_LAST_NAME="Коваленко",
        ADMIN_FIRST_NAME="Олена",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    process = subprocess.Popen(  # noqa: S603 - the project's own script
        [str(ROOT / "scripts" / "serve")],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the teardown can always stop everything it started
    )
    server = Server(process, port)
    assert process.stdout is not None
    stdout = process.stdout
    server.reader = threading.Thread(target=lambda: server.lines.extend(iter(stdout.readline, "")), daemon=True)
    server.reader.start()
    deadline = time.monotonic() + 180  # a first run migrates and collects static files: seconds, more on a busy machine
    while "is running at" not in server.output:
        if process.poll() is not None or time.monotonic() > deadline:
            stop(server)
            pytest.fail(f"scripts/serve did not start:\n{server.output[-4000:]}")
        time.sleep(0.1)
    return server


def stop(server: Server) -> int:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout=30)
    finally:
        if server.process.poll() is None or server.children(""):
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()
        if server.reader is not None:
            server.reader.join(timeout=10)
        if server.process.stdout is not None:
            server.process.stdout.close()


# The static files a first start collected (hashing and compressing ~900 files: ~45 s of CPU). The SQLite pass
# collects them as a first start does and keeps a copy here; the PostgreSQL pass starts from that copy (the
# script collects again if its stamp no longer matches), as collecting does not depend on the database.
COLLECTED = ROOT / "var" / "test-serve-static"


def test_serve_runs_like_production_and_stops_cleanly(tmp_path: Path, database_url: str | None) -> None:
    var_dir = tmp_path / "var"
    if connection.vendor == "postgresql" and COLLECTED.is_dir():
        shutil.copytree(COLLECTED, var_dir / "static")
    started = time.monotonic()
    server = start(var_dir, database_url)
    first_start = time.monotonic() - started
    if connection.vendor == "sqlite":
        shutil.rmtree(COLLECTED, ignore_errors=True)
        shutil.copytree(var_dir / "static", COLLECTED)
    try:
        # First run: the school and its administrator exist, and the activation code is printed once.
        assert f"http://127.0.0.1:{server.port}/" in server.output
        assert CODE.search(server.output), server.output
        assert "kovalenko.olena" in server.output

        # Errors: a translated page, never Django's debug page with settings.
        status, headers, body = server.get("/no-such-page/", **{"Accept-Language": "uk"})
        assert status == 404
        assert headers["Content-Type"].startswith("text/html")
        for leak in DEBUG_LEAKS:
            assert leak not in body
        assert 'lang="uk"' in body, body[:500]
        # Only this machine's names are served (ALLOWED_HOSTS): another Host header is refused, quietly.
        status, _, body = server.get("/accounts/login/", Host="attacker.example")
        assert status == 400
        for leak in DEBUG_LEAKS:
            assert leak not in body

        # Static files: hashed names from the manifest, served by WhiteNoise with a long cache lifetime.
        status, _, login_page = server.get("/accounts/login/")
        assert status == 200
        # (the stylesheets are inlined into the page for the first paint; the scripts are linked)
        script = re.search(r"/static/classbook/app\.[0-9a-f]{12}\.js", login_page)
        assert script, login_page[:1000]
        status, headers, _ = server.get(script.group(0))
        assert status == 200
        assert "max-age=315360000" in headers["Cache-Control"]
        assert server.get("/accounts/activate/")[0] == 200

        # The key: generated once, readable by its owner only.
        key_file = var_dir / "secret_key"
        key = key_file.read_text().strip()
        assert len(key) >= 50
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert key not in server.output

        # gunicorn and the task worker run side by side.
        (web,) = server.children("gunicorn")
        (worker,) = server.children("manage.py worker")
        assert alive(web)
        assert alive(worker)
    finally:
        code = stop(server)
    assert code in (0, 143), server.output[-3000:]
    assert not alive(web)
    assert not alive(worker)
    if connection.vendor == "postgresql":
        # The second run reads only var/ (the key, the static files' stamp) and counts the schools, as the
        # first did: the same on either database, so the SQLite run checks it (another start is seconds).
        print(f"scripts/serve: first start {first_start:.1f} s")
        return

    # Second run: the same key, the same school, no new code, static files not collected again.
    started = time.monotonic()
    again = start(var_dir, database_url)
    second_start = time.monotonic() - started
    try:
        assert key_file.read_text().strip() == key
        assert not CODE.search(again.output)
        assert again.get("/accounts/login/")[0] == 200
    finally:
        assert stop(again) in (0, 143)
    print(f"scripts/serve: first start {first_start:.1f} s, second start {second_start:.1f} s")
