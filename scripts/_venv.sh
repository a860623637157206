# Shared by scripts/demo and scripts/test: create .venv and install the pinned project.
# Usage: source scripts/_venv.sh [extras]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# CLASSBOOK_SKIP_SETUP=1: use the python already on PATH as it is (the tests that start scripts/serve).
if [ "${CLASSBOOK_SKIP_SETUP:-0}" = 1 ]; then return 0; fi
# System libraries: WeasyPrint needs Pango (and HarfBuzz-Subset) and a font with Cyrillic glyphs; compilemessages needs gettext.
need_apt=()
ldconfig -p 2>/dev/null | grep -q libpango-1.0 || need_apt+=(libpango-1.0-0 libpangoft2-1.0-0)
# HarfBuzz-Subset: WeasyPrint embeds font subsets with it (and warns, an error in the tests, without it).
ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || need_apt+=(libharfbuzz-subset0)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
command -v msgfmt >/dev/null 2>&1 || need_apt+=(gettext)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing system packages: ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
STAMP=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-${1:-base}"
if [ ! -f "$STAMP" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
  if [ -n "${1:-}" ]; then
    .venv/bin/python -m pip install --quiet -e ".[$1]"
  else
    .venv/bin/python -m pip install --quiet -e .
  fi
  touch "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
