# Sourced by the scripts that run Python tools (conformance runner, boto3
# tests, Python guest tests): `pyenv_ensure VENV REQUIREMENTS LABEL` makes
# sure VENV is a virtual environment with REQUIREMENTS installed, recreating
# it when the requirements file or python3 change, and sets PY to its python.
# Concurrent runs set a venv up once (flock on VENV.lock).

pyenv_ensure() {
    local venv="$1" requirements="$2" label="$3"
    command -v python3 >/dev/null 2>&1 || { echo "$label: python3 not found" >&2; return 1; }
    local want
    want="$({
        cat "$requirements"
        python3 -c 'import sys; print(sys.version, sys.executable)'
    } | python3 -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
    mkdir -p "$(dirname "$venv")"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$venv.lock"
        flock 9
    fi
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c '' 2>/dev/null ||
        [ "$(cat "$venv/.requirements.stamp" 2>/dev/null || true)" != "$want" ]; then
        echo "$label: setting up $venv" >&2
        python3 -m venv --clear "$venv" || {
            echo "$label: python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2
            return 1
        }
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" || {
            echo "$label: pip install -r $requirements failed" >&2
            return 1
        }
        echo "$want" >"$venv/.requirements.stamp"
    fi
    if command -v flock >/dev/null 2>&1; then exec 9>&-; fi
    PY="$venv/bin/python"
}
