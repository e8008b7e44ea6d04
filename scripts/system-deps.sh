#!/usr/bin/env bash
# Debian packages the test suite runs for real: Mosquitto, InfluxDB (influxd), the
# PostgreSQL server binaries, and Chromium with chromedriver for the browser tests. Installs only what is missing, so a second run
# costs a few file checks. The fixtures start their own Mosquitto and influxd on
# free ports, so no daemon is started for those two.
#
#   scripts/system-deps.sh                 test services (and start a stopped local PostgreSQL)
#   scripts/system-deps.sh --only PKG...   just these Debian packages, when not installed
set -euo pipefail

log() { printf 'system-deps: %s\n' "$*" >&2; }

# Root runs apt-get itself; anyone else needs sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        log "need root to run: $*"
        return 1
    fi
}

apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        log "missing: $* -- no apt-get here; install the equivalents with your package manager"
        return 1
    fi
    log "installing: $*"
    # Another apt run (e.g. unattended upgrades) may hold the lock for a while.
    local lock=(-o DPkg::Lock::Timeout=300)
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" install -y -qq \
        --no-install-recommends "$@"
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

has_postgres_server() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }

# /usr/sbin is not on every user's PATH, which is where Debian puts mosquitto.
has_mosquitto() { command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; }

has_influxd() { command -v influxd >/dev/null 2>&1 || [ -x /usr/bin/influxd ]; }

port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The tests prefer a local server on 5432 and otherwise start a private cluster,
# so a cluster that cannot be started here is not an error.
start_local_postgres() {
    port_answers 5432 && return 0
    command -v pg_lsclusters >/dev/null 2>&1 || return 0
    local version name port status
    while read -r version name port status _; do
        [ "$port" = 5432 ] && [ "$status" = down ] || continue
        if [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; then
            log "starting PostgreSQL cluster $version/$name"
            as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start \
                || log "could not start $version/$name; the tests will use a private cluster"
        fi
        return 0
    done < <(pg_lsclusters --no-header 2>/dev/null || true)
}

if [ "${1:-}" = --only ]; then
    shift
    missing=()
    for pkg in "$@"; do
        installed "$pkg" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
    exit 0
fi

missing=()
has_mosquitto || missing+=(mosquitto)
has_influxd || missing+=(influxdb)
has_postgres_server || missing+=(postgresql)
# The browser tests: headless Chromium, its driver, and fonts for Korean screenshots.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
installed fonts-noto-cjk || missing+=(fonts-noto-cjk)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
start_local_postgres
