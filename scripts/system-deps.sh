#!/usr/bin/env bash
# Make sure the system services the tests talk to exist: mosquitto, Chromium and a PostgreSQL server
# reachable at 127.0.0.1:5432 as `postgres` without a password (LOA_TEST_POSTGRES_URL overrides).
# As root on Debian it installs and starts what is missing; otherwise it says what to do.
set -euo pipefail

need_apt=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
# Browser tests drive Debian's Chromium through Playwright (executable_path), never a downloaded browser.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# The agent's real player (tests/edge_agent/test_player.py plays through it into ALSA's null sink).
command -v mpg123 >/dev/null 2>&1 || need_apt+=(mpg123)

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing: ${need_apt[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}"
    # Our own fresh install: let local test connections in without a password.
    if [[ " ${need_apt[*]} " == *" postgresql "* ]]; then
      for hba in /etc/postgresql/*/main/pg_hba.conf; do
        sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/; s/^(host\s+all\s+all\s+::1\/128\s+)\S+/\1trust/' "$hba"
      done
    fi
  else
    echo "missing system packages: ${need_apt[*]} (install them, e.g. apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
fi

if [ -z "${LOA_TEST_POSTGRES_URL:-}" ]; then
  if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null 2>&1; then
      version=$(ls /etc/postgresql | sort -V | tail -n 1)
      pg_ctlcluster --skip-systemctl-redirect "$version" main start || pg_ctlcluster "$version" main start
    else
      echo "PostgreSQL is not listening on 127.0.0.1:5432" >&2
      exit 1
    fi
  fi
fi
