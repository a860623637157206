"""Where the secret key comes from: the environment or a key file, never the source code.

Imported by ``classbook/settings.py`` before Django is configured, so it uses the standard library only.
``scripts/demo`` and ``scripts/serve`` create the installation's key file with it:

    python -m classbook.core.secret_key var/secret_key
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import sys
from pathlib import Path


class SecretKeyError(Exception):
    """The key file cannot be read or holds no key."""


def read_key_file(path: Path) -> str:
    """The key kept in ``path`` (surrounding whitespace removed)."""
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretKeyError(f"cannot read the secret key file {path}: {exc.strerror}") from None
    if not key:
        raise SecretKeyError(f"the secret key file {path} is empty")
    return key


def ensure_key_file(path: Path) -> str:
    """Return the key in ``path``, first creating the file with a new random key if there is none.

    The file is readable and writable by its owner only (0600). Creation is atomic and never replaces a
    key: the key is written to a private temporary file, which is then hard-linked to ``path``; when two
    processes race, the second link fails and both use the first key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(secrets.token_urlsafe(50) + "\n")
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):  # another process made the key first: keep theirs
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)  # a copied or hand-made file: owner only
    return read_key_file(path)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m classbook.core.secret_key PATH", file=sys.stderr)
        return 2
    try:
        ensure_key_file(Path(argv[0]))
    except (OSError, SecretKeyError) as exc:
        print(f"classbook: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
