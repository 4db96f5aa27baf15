# Shared by scripts/run and scripts/test: make sure .venv exists and holds the pinned dependencies.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Launch Ready needs Python 3.11 or newer (found: $("$PY" --version 2>&1)). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> Creating the virtualenv in .venv"
  "$PY" -m venv .venv
fi
VENV_PY="$ROOT/.venv/bin/python"
# Reinstall only when pyproject.toml changed since the last install.
STAMP=.venv/.installed-$1
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  echo "==> Installing dependencies ($1)"
  "$VENV_PY" -m pip install --quiet --disable-pip-version-check --upgrade pip
  if [ "$1" = test ]; then
    "$VENV_PY" -m pip install --quiet --disable-pip-version-check ".[test]"
  else
    "$VENV_PY" -m pip install --quiet --disable-pip-version-check .
  fi
  rm -rf build ./*.egg-info
  touch "$STAMP"
fi
