#!/usr/bin/env bash
# Builds Python guests into WebAssembly components with componentize-py.
#
#   scripts/build-python-guests.sh                  # every examples/python/*/ into target/guests/python/
#   scripts/build-python-guests.sh SRC [-o OUT.wasm] # one module (FILE.py) or directory
#
# A directory's entry module is handler.py, else lambda_function.py, else its
# only .py file; the handler is its `lambda_handler` (LAMINA_PY_HANDLER=name
# picks another). A module using @durable_execution targets the world
# lamina:durable/durable-function, any other lamina:function/function.
# Pure-Python dependencies in a requirements.txt beside it are bundled.
#
# componentize-py (pinned below, from PyPI) is installed once into a venv under
# ${LAMINA_TARGET_DIR:-target}/python-guests/; builds go there too.
#
# `lamina build` runs this same script (embedded in the binary) with the SDK
# and WIT files it carries: LAMINA_PY_SDK_DIR (the dir holding lamina_sdk/),
# LAMINA_PY_WIT_DIR (the dir holding function/ and durable/) and
# LAMINA_PY_WORK (the venv and staging dir) override the repository paths.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${LAMINA_TARGET_DIR:-$REPO/target}"
WORK="${LAMINA_PY_WORK:-$TARGET_DIR/python-guests}"
VENV="$WORK/venv"
COMPONENTIZE_PY_VERSION="0.25.1"
SDK="${LAMINA_PY_SDK_DIR:-$REPO/guest-sdk/python}"
WIT="${LAMINA_PY_WIT_DIR:-$REPO/wit}"
HANDLER_NAME="${LAMINA_PY_HANDLER:-lambda_handler}"

PROG="${LAMINA_PY_PROG:-build-python-guests}"
die() { echo "$PROG: $*" >&2; exit 1; }

command -v python3 >/dev/null 2>&1 || die "python3 not found (Python >= 3.10 is needed)"

# --- componentize-py, once (re-installed when the pinned version changes).
mkdir -p "$WORK"
if command -v flock >/dev/null 2>&1; then
    exec 8>"$WORK/venv.lock" # concurrent builds set the venv up once
    flock 8
fi
if [ "$(cat "$VENV/.version" 2>/dev/null || true)" != "$COMPONENTIZE_PY_VERSION" ] ||
    ! "$VENV/bin/componentize-py" --version >/dev/null 2>&1; then
    echo "$PROG: installing componentize-py $COMPONENTIZE_PY_VERSION from PyPI into $VENV (first use only; about a minute)" >&2
    python3 -m venv --clear "$VENV" ||
        die "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "componentize-py==$COMPONENTIZE_PY_VERSION" || die "pip install componentize-py failed"
    echo "$COMPONENTIZE_PY_VERSION" >"$VENV/.version"
fi
if command -v flock >/dev/null 2>&1; then exec 8>&-; fi
CPY="$VENV/bin/componentize-py"

# build SRC OUT: one Python module or directory into one component.
build() {
    local src="$1" out="$2" dir entry module world wit stage
    if [ -d "$src" ]; then
        dir="$(cd "$src" && pwd)"
        for candidate in handler.py lambda_function.py; do
            if [ -f "$dir/$candidate" ]; then entry="$candidate"; break; fi
        done
        if [ -z "${entry:-}" ]; then
            mapfile -t pys < <(cd "$dir" && ls -1 -- *.py 2>/dev/null)
            [ "${#pys[@]}" -eq 1 ] || die "$src: no handler.py or lambda_function.py, and not exactly one .py file"
            entry="${pys[0]}"
        fi
    elif [ -f "$src" ]; then
        dir="$(cd "$(dirname "$src")" && pwd)"
        entry="$(basename "$src")"
    else
        die "$src: no such file or directory"
    fi
    module="${entry%.py}"
    local syntax='import ast, sys; ast.parse(open(sys.argv[1], encoding="utf-8").read(), sys.argv[1])'
    python3 -c "$syntax" "$dir/$entry" 2>/dev/null ||
        die "$dir/$entry has a syntax error: $(python3 -c "$syntax" "$dir/$entry" 2>&1 | tail -n 1)"
    grep -Eq "^(def|async def) +$HANDLER_NAME *\(|^$HANDLER_NAME *=" "$dir/$entry" ||
        die "$dir/$entry defines no handler '$HANDLER_NAME' (set LAMINA_PY_HANDLER for another name)"
    if grep -Eq "^@(.*\.)?durable_execution|^$HANDLER_NAME *= *(.*\.)?durable_execution\(" "$dir/$entry"; then
        world=durable-function wit="$WIT/durable" export=durable_export
    else
        world=function wit="$WIT/function" export=handler_export
    fi

    # Up to date? The inputs' digest is kept beside the output.
    local digest
    digest="$(
        {
            echo "$COMPONENTIZE_PY_VERSION $world $HANDLER_NAME $entry"
            (cd "$dir" && find . -type f ! -path '*/__pycache__/*' ! -path './.*' ! -name '*.pyc' ! -name '*.wasm' ! -name '*.wasm.inputs' -print0 | sort -z | xargs -0 -r sha256sum)
            (cd "$SDK" && find lamina_sdk -type f -name '*.py' -print0 | sort -z | xargs -0 sha256sum)
            sha256sum "$wit"/*.wit "$0"
        } | sha256sum | cut -d' ' -f1
    )"
    if [ -f "$out" ] && [ "$(cat "$out.inputs" 2>/dev/null || true)" = "$digest" ]; then
        echo "$PROG: $out is up to date" >&2
        return 0
    fi
    stage="$WORK/build/$(basename "$out" .wasm)"
    # Build from copies, so componentize-py's bytecode stays out of the source tree.
    rm -rf "$stage" && mkdir -p "$stage/app" "$stage/deps" "$stage/src" "$stage/sdk"
    (cd "$dir" && tar --exclude=__pycache__ --exclude='*.pyc' --exclude=requirements.txt \
        --exclude='./.*' --exclude='*.wasm' --exclude='*.wasm.inputs' -cf - .) |
        (cd "$stage/src" && tar -xf -)
    (cd "$SDK" && tar --exclude=__pycache__ --exclude='*.pyc' -cf - lamina_sdk) | (cd "$stage/sdk" && tar -xf -)
    if [ -f "$dir/requirements.txt" ]; then
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile \
            --only-binary=:all: --platform any --implementation py --target "$stage/deps" \
            -r "$dir/requirements.txt" ||
            die "$dir/requirements.txt: only pure-Python packages (py3-none-any wheels) can be bundled"
    fi
    cat >"$stage/app/lamina_guest_app.py" <<PY
# Generated by lamina build / build-python-guests.sh: exports $module.$HANDLER_NAME.
from lamina_sdk._component import $export
import $module as _user

Handler = $export(getattr(_user, "$HANDLER_NAME"))
PY
    mkdir -p "$(dirname "$out")"
    echo "$PROG: $dir/$entry ($world) -> $out" >&2
    (cd "$stage" && env -u VIRTUAL_ENV "$CPY" -d "$wit" -w "$world" componentize lamina_guest_app \
        -p "$stage/app" -p "$stage/src" -p "$stage/sdk" -p "$stage/deps" -o "$out")
    echo "$digest" >"$out.inputs"
}

if [ "$#" -eq 0 ]; then
    for d in "$REPO"/examples/python/*/; do
        name="$(basename "$d")"
        build "$d" "$TARGET_DIR/guests/python/${name//-/_}.wasm"
    done
else
    src="$1"
    shift
    out=""
    while [ "$#" -gt 0 ]; do
        case "$1" in
        -o) out="$2"; shift 2 ;;
        *) die "unknown argument $1" ;;
        esac
    done
    if [ -z "$out" ]; then
        name="$(basename "${src%.py}")"
        out="$TARGET_DIR/guests/python/${name//-/_}.wasm"
    fi
    build "$src" "$out"
fi
