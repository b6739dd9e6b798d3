#!/usr/bin/env bash
# Installs the Python packages the tests, examples and scripts use into the python3 on the
# PATH, only those missing: numpy and scipy (fixtures, the numpy reference simulator),
# matplotlib (examples/), xarray and pandas (the Python reader's optional labelled types,
# tested both ways). Idempotent and quiet when everything is present; retries a failed
# install (a busy network).
set -euo pipefail
PYTHON=${PYTHON:-python3}
missing=()
for module in numpy scipy matplotlib xarray pandas; do
    "$PYTHON" -c "import $module" >/dev/null 2>&1 || missing+=("$module")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "make deps: installing Python packages ${missing[*]}" >&2
for attempt in 1 2 3 4 5; do
    if "$PYTHON" -m pip install --quiet --disable-pip-version-check "${missing[@]}" >/dev/null 2>&1; then
        exit 0
    fi
    echo "make deps: pip install failed (attempt $attempt), retrying" >&2
    sleep $((attempt * 5))
done
echo "make deps: could not install ${missing[*]}; run: $PYTHON -m pip install ${missing[*]}" >&2
exit 1
