#!/usr/bin/env bash
# Installs the Debian packages WholeBrain needs, only those missing. Idempotent and quiet when
# everything is present; waits for a busy dpkg/apt lock and retries failed installs (another
# process may be running apt, or may have removed downloaded archives).
set -euo pipefail

PACKAGES=(libopenmpi-dev openmpi-bin libfftw3-dev liblapacke-dev zlib1g-dev pkg-config chromium slurmctld slurmd slurm-client munge)

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "make deps: installing ${missing[*]}" >&2

wait_for_lock() {
    for _ in $(seq 1 120); do
        if ! fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock >/dev/null 2>&1; then
            return 0
        fi
        sleep 2
    done
}

export DEBIAN_FRONTEND=noninteractive
for attempt in 1 2 3 4 5; do
    wait_for_lock
    if $SUDO apt-get update -qq -o DPkg::Lock::Timeout=120 >/dev/null 2>&1 &&
       $SUDO apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 "${missing[@]}" >/dev/null 2>&1; then
        exit 0
    fi
    echo "make deps: apt-get failed (attempt $attempt), retrying" >&2
    sleep $((attempt * 5))
done
echo "make deps: could not install ${missing[*]}; run: apt-get update && apt-get install -y ${missing[*]}" >&2
exit 1
