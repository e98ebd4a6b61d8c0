#!/usr/bin/env bash
# The installer's guide (firmware_config/INSTALL.en.md), rehearsed on this machine:
#  1. install loa-xa with the `agent` extra alone into a throwaway venv and prove no controller library came with it;
#  2. prove `loa agent` rejects a bad config, naming the key;
#  3. start a local controller (from the dev venv, .venv), create a commune, mint a one-time enrolment token;
#  4. run firmware_config/loa-enroll with the agent-only venv: it writes a 0600 password file and the config;
#  5. start `loa agent` from the agent-only venv (mock GPIO, virtual player) and wait until the controller
#     lists it online; print the agent's RSS.
# Not covered here: a clean Debian image (this reuses the host's Python and packages), systemd, chrony, ALSA
# hardware, a real GPIO header. scripts/check-agent-install-debian.sh follows the guide itself in a clean
# Debian 12 chroot (as root; tests/install runs it). Steps 3-5 need the dev venv (.venv) for the controller;
# skip them with AGENT_ONLY=1.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
# shellcheck source=scripts/install-rehearsal-lib.sh
. scripts/install-rehearsal-lib.sh
work=$(mktemp -d)
venv=$work/agent-venv
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q ".[agent]"
forbidden=$(forbidden_in "$venv/bin/python")
[ -z "$forbidden" ] || { echo "agent-only install pulled in $forbidden" >&2; exit 1; }
"$venv/bin/loa" agent --help >/dev/null
printf 'agent_id = "Bad Id"\n' > "$work/bad.toml"
if out=$("$venv/bin/loa" agent --config "$work/bad.toml" 2>&1); then
  echo "loa agent accepted a bad config" >&2
  exit 1
fi
echo "$out" | grep -q "agent_id" || { echo "config error did not name the key: $out" >&2; exit 1; }
echo "agent-only install: ok (no controller libraries; loa agent runs and names bad keys)"
[ "${AGENT_ONLY:-0}" = 1 ] && exit 0

dev=${DEV_PYTHON:-$repo/.venv/bin/python}
local_controller_start inst
pids+=("$controller_pid")
local_controller_wait
token=$(enrolment_token xa-install-cum-1 inst)

"$venv/bin/python" firmware_config/loa-enroll --controller "$base" --token "$token" \
  --config "$work/etc/agent.toml" --state-dir "$work/state" --player virtual
[ "$(stat -c %a "$work/etc/mqtt-password")" = 600 ] || { echo "password file is not 0600" >&2; exit 1; }

GPIOZERO_PIN_FACTORY=mock "$venv/bin/loa" agent --config "$work/etc/agent.toml" >"$work/agent.log" 2>&1 &
agent_pid=$!
pids+=("$agent_pid")
status=unknown
for _ in $(seq 1 150); do
  status=$(agent_status xa-install-cum-1)
  [ "$status" = online ] && break
  sleep 0.2
done
[ "$status" = online ] || { cat "$work/agent.log" >&2; echo "agent never came online (status $status)" >&2; exit 1; }
sleep 2
rss=$(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$agent_pid/status")
echo "installer's guide rehearsal: ok (enrolled with a one-time token, agent online; agent-only venv RSS $rss)"
