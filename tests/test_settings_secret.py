"""The secret key never comes from the source code: without one (and DEBUG off) Classbook refuses to start.

Each case imports the settings in a fresh process with a chosen environment, as a server would.
"""

from __future__ import annotations

import ast
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from classbook.core.secret_key import SecretKeyError, ensure_key_file, read_key_file

pytestmark = pytest.mark.engine_agnostic  # no database: run on SQLite only by scripts/test

ROOT = Path(__file__).resolve().parent.parent
PRINT_KEY = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"


def environment(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "SECRET_KEY_FILE", "DEBUG"}}
    env.update(DJANGO_SETTINGS_MODULE="classbook.settings", CLASSBOOK_VAR_DIR=str(var_dir), **extra)
    return env


def start(args: list[str], env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and project
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def assert_refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured: Classbook cannot start" in result.stderr, result.stderr[-2000:]
    for word in words:
        assert word in result.stderr


def test_without_a_key_and_debug_off_settings_refuse_to_load(tmp_path: Path) -> None:
    result = start([sys.executable, "-c", PRINT_KEY], environment(tmp_path, DEBUG="0"))
    assert_refused(result, "SECRET_KEY is not set", "SECRET_KEY_FILE")
    assert not (tmp_path / "secret_key").exists()  # no key made up behind the operator's back


def test_without_a_key_manage_py_refuses(tmp_path: Path) -> None:
    result = start([sys.executable, "manage.py", "check"], environment(tmp_path))
    assert_refused(result, "SECRET_KEY is not set")


def test_without_a_key_gunicorn_does_not_serve(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    args = [gunicorn, "classbook.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    result = start([*args, "--no-control-socket"], environment(tmp_path), timeout=90)
    assert result.returncode != 0
    assert "Classbook cannot start: SECRET_KEY is not set" in result.stderr


def test_a_key_file_is_used(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("  a-key-from-the-operator's-file-0123456789\n")
    result = start([sys.executable, "-c", PRINT_KEY], environment(tmp_path, SECRET_KEY_FILE=str(key_file)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "a-key-from-the-operator's-file-0123456789"


def test_a_missing_or_empty_key_file_is_refused(tmp_path: Path) -> None:
    missing = start([sys.executable, "-c", PRINT_KEY], environment(tmp_path, SECRET_KEY_FILE=str(tmp_path / "nope")))
    assert_refused(missing, str(tmp_path / "nope"))
    (tmp_path / "empty").write_text("\n")
    empty = start([sys.executable, "-c", PRINT_KEY], environment(tmp_path, SECRET_KEY_FILE=str(tmp_path / "empty")))
    assert_refused(empty, "is empty")


def test_the_environment_key_wins(tmp_path: Path) -> None:
    result = start([sys.executable, "-c", PRINT_KEY], environment(tmp_path, SECRET_KEY="from-the-environment-" * 3))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "from-the-environment-" * 3


def test_development_keeps_one_generated_key_readable_by_the_owner_only(tmp_path: Path) -> None:
    first = start([sys.executable, "-c", PRINT_KEY], environment(tmp_path, DEBUG="1"))
    second = start([sys.executable, "-c", PRINT_KEY], environment(tmp_path, DEBUG="1"))
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50
    assert second.stdout.strip() == key  # sessions survive a restart
    assert (tmp_path / "secret_key").read_text().strip() == key
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_ensure_key_file_never_replaces_a_key_and_tightens_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    key = ensure_key_file(path)
    assert ensure_key_file(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temporary file left behind
    path.chmod(0o644)
    assert ensure_key_file(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_key_file(tmp_path / "other") != key
    with pytest.raises(SecretKeyError):
        read_key_file(tmp_path / "missing")


def test_the_command_line_creates_the_key_file(tmp_path: Path) -> None:
    env = environment(tmp_path)
    result = start([sys.executable, "-m", "classbook.core.secret_key", str(tmp_path / "k")], env)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600
    assert start([sys.executable, "-m", "classbook.core.secret_key"], env).returncode == 2


def test_settings_assign_no_key_literal() -> None:
    tree = ast.parse((ROOT / "classbook" / "settings.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "SECRET_KEY" for t in targets):
                assert not isinstance(node.value, ast.Constant) or node.value.value == "", ast.unparse(node)
