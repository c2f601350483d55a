#!/usr/bin/env bash
# One install script for anycast-testbed: used by the Makefile, CI and the
# Vagrant provisioning. Idempotent: a second run only checks.
#   - Debian packages (Mininet, FRR, BIRD 2, NSD, nginx, unbound, PowerDNS, iproute2, dig, tcpdump, ...)
#   - a virtualenv (.venv, or $VENV) from /usr/bin/python3 with --system-site-packages
#     (Mininet comes from the Debian package; PyPI's lacks mnexec)
#   - pip install -e .[dev]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The virtualenv: $VENV if set, else what /etc/anycast-testbed/env says (the
# Vagrant VM keeps it outside the synced folder there), else .venv. The
# Makefile reads the same file, so both always agree.
ENV_FILE="${ANYCAST_ENV_FILE:-/etc/anycast-testbed/env}"
if [ -z "${VENV:-}" ] && [ -r "$ENV_FILE" ]; then
    VENV="$(sed -n 's/^VENV *= *//p' "$ENV_FILE" | tail -n 1)"
fi
VENV="${VENV:-$HERE/.venv}"
case "$VENV" in /*) ;; *) VENV="$HERE/$VENV" ;; esac
PYTHON="${PYTHON:-/usr/bin/python3}"
PACKAGES=(mininet frr bird2 nsd nginx unbound pdns-server pdns-backend-bind iproute2 iputils-ping dnsutils tcpdump iptables nftables python3-nftables
          procps python3-venv python3-dev gcc ruby)

log() { printf '[install] %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root (sudo make ...): it installs Debian packages" >&2
    exit 2
fi

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    log "Debian packages present"
fi

# The Debian frr, bird2 (service bird), nsd, nginx, unbound and pdns packages start system-wide
# daemons; the testbed runs its own per namespace and needs none of them.
for svc in frr bird nsd nginx unbound pdns; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled "$svc" >/dev/null 2>&1; then
        systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
done

if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV from $PYTHON (--system-site-packages)"
    "$PYTHON" -m venv --system-site-packages "$VENV"
fi

stamp="$VENV/.installed"
if [ ! -f "$stamp" ] || [ "$HERE/pyproject.toml" -nt "$stamp" ] || [ "$HERE/setup.py" -nt "$stamp" ]; then
    log "pip install -e .[dev]"
    "$VENV/bin/pip" install -q --upgrade "pip>=23" wheel
    if "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info >= (3, 12))'; then
        # Ryu 4.34's setup hooks need setuptools 66 and no build isolation.
        if ! "$VENV/bin/python" -c 'import ryu' 2>/dev/null; then
            log "pip install ryu==4.34 (setuptools 66, no build isolation)"
            "$VENV/bin/pip" install -q "setuptools==66.1.1" pbr
            "$VENV/bin/pip" install -q --no-build-isolation "ryu==4.34"
        fi
    fi
    "$VENV/bin/pip" install -q -e "$HERE[dev]"
    touch "$stamp"
else
    log "virtualenv up to date"
fi
log "done: $VENV/bin/anycast-testbed"
