#!/usr/bin/env bash
# The project's virtualenv: created when missing or unusable, and smartfab
# (editable, with the test and dev extras) installed again whenever
# pyproject.toml is newer than the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
stamp=$VENV/.installed

log() { printf 'venv: %s\n' "$*" >&2; }

if ! "$VENV/bin/python" -c 'import pip' >/dev/null 2>&1; then
    command -v "$PYTHON" >/dev/null 2>&1 || scripts/system-deps.sh --only python3 python3-venv
    log "creating $VENV with $("$PYTHON" --version 2>&1)"
    if ! "$PYTHON" -m venv --clear "$VENV"; then
        # Debian's python3 has no ensurepip (hence no venv) without python3-venv.
        scripts/system-deps.sh --only python3-venv
        "$PYTHON" -m venv --clear "$VENV"
    fi
fi

if [ ! -e "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    log "installing smartfab[test,dev] into $VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q -e '.[test,dev]'
    touch "$stamp"
fi
