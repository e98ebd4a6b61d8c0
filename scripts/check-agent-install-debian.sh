#!/usr/bin/env bash
# The installer's guide (firmware_config/INSTALL.en.md) followed on a clean Debian 12 (bookworm) root, no Pi:
#  1. debootstrap --variant=minbase bookworm into a temporary directory, then add what Raspberry Pi OS Lite
#     has and minbase lacks: sudo, ca-certificates, systemd, an admin user `pi` with passwordless sudo;
#  2. read the guide's own shell blocks (sections 2-6) out of INSTALL.en.md and run them as `pi` inside the
#     chroot with Debian's python3. The lines a chroot cannot run are replaced, each one printed with why
#     (git clone: the working tree is copied instead; systemctl restart/--now: no systemd is running);
#  3. the controller runs on the host from the dev venv (.venv) on 127.0.0.1: a chroot shares the network;
#  4. start the agent the way firmware_config/systemd/loa-agent.service does (its ExecStart as its User and
#     groups, UMask, Environment, StateDirectory, a notify socket and watchdog, no new privileges), with
#     gpiozero's mock pins; wait until the controller lists it online; SIGTERM it: clean exit, listed offline.
# Not covered: a real Pi (GPIO header, sound card, python3-lgpio from Raspberry Pi OS's archive), systemd
# actually running the unit and its sandboxing, polkit, NTP over the network.
# Needs root; installs debootstrap if missing (exit 77 when it cannot). DEBIAN_MIRROR overrides
# http://deb.debian.org/debian; DEV_PYTHON the controller's Python; CHROOT_PARENT the directory the chroot goes
# in (default /var/tmp; it must allow exec and devices); KEEP_CHROOT=1 keeps the root afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
started=$SECONDS
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
dev=${DEV_PYTHON:-$repo/.venv/bin/python}
agent_id=xa-debian-cum-1
# shellcheck source=scripts/install-rehearsal-lib.sh
. scripts/install-rehearsal-lib.sh

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root (debootstrap, chroot, mounts)" >&2
  exit 77
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "installing debootstrap"
  if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; } >&2; then
    echo "SKIP: debootstrap is missing and apt-get could not install it" >&2
    exit 77
  fi
fi
[ -x "$dev" ] || { echo "no dev venv at $dev (./run setup makes it); the controller runs from it" >&2; exit 1; }

work=$(realpath "$(mktemp -d "${CHROOT_PARENT:-/var/tmp}/loa-debian.XXXXXX")")
root=$work/root
log=$work/install.log
host_pids=()
mounted=()

# Processes whose root directory is the chroot: chronyd, and whatever else the guide's steps left running.
chroot_pids() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && echo "${p#/proc/}"
  done
  return 0
}
cleanup() {
  local rc=$? pid i m left
  set +e
  for pid in "${host_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${host_pids[@]}"; do wait "$pid" 2>/dev/null; done
  for i in 1 2 3 4 5 6 7 8 9 10; do
    left=$(chroot_pids)
    [ -z "$left" ] && break
    # shellcheck disable=SC2086
    if [ "$i" -lt 10 ]; then kill $left 2>/dev/null; sleep 0.5; else kill -KILL $left 2>/dev/null; sleep 0.5; fi
  done
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    m=${mounted[$i]}
    mountpoint -q "$m" && { umount "$m" 2>/dev/null || umount -l "$m"; }
  done
  if grep -qF " $root/" /proc/self/mounts; then
    echo "still mounted under $root; not removing it:" >&2
    grep -F " $root/" /proc/self/mounts >&2
  elif [ "${KEEP_CHROOT:-0}" = 1 ]; then
    echo "kept: $work (the chroot is $root)"
  else
    rm -rf --one-file-system "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "FAILED: $*" >&2
  echo "--- last lines of $log ---" >&2
  tail -n 80 "$log" >&2 || true
  exit 1
}
phase_start=$SECONDS
phase() {
  echo "== $* ($((SECONDS - phase_start)) s since the previous step)"
  phase_start=$SECONDS
}
mount_in_root() {  # mount_in_root TARGET mount-args...
  local target=$root/$1
  shift
  mount "$@" "$target"
  mounted+=("$target")
}

# Commands inside the chroot start from a clean environment: nothing of the host's (pip's find-links, index
# and so on) leaks in. Only a proxy is passed on, and the CA bundle when the host trusts an extra CA.
base_env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb)
for var in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  [ -n "${!var:-}" ] && base_env+=("$var=${!var}")
done
in_root() { chroot "$root" /usr/bin/env -i "${base_env[@]}" "$@" </dev/null; }
as_pi() { in_root runuser -u pi -- "$@"; }

# --- 1. a clean Debian 12 ------------------------------------------------------------------------------
echo "clean Debian rehearsal in $work"
debootstrap --variant=minbase bookworm "$root" "$mirror" >>"$log" 2>&1 || fail "debootstrap from $mirror"
phase "debootstrap --variant=minbase bookworm"
mount_in_root proc -t proc proc
mount_in_root sys -t sysfs -o ro sysfs
mount_in_root dev --bind /dev
mount_in_root dev/pts --bind /dev/pts
# A chroot must not start services: the package scripts would start chronyd here, on the host's clock.
printf '#!/bin/sh\n# chroot: never start services\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$(hostname)" >"$root/etc/hosts"
if [ -n "${http_proxy:-}" ]; then
  printf 'Acquire::http::Proxy "%s";\n' "$http_proxy" >"$root/etc/apt/apt.conf.d/90proxy"
fi
echo 'debconf debconf/frontend select Noninteractive' >"$root/tmp/debconf.selections"
in_root debconf-set-selections /tmp/debconf.selections
# What Raspberry Pi OS Lite already has and minbase lacks: sudo, CA certificates, systemd (the init).
in_root apt-get install -y -q sudo ca-certificates systemd >>"$log" 2>&1 || fail "apt-get install sudo ca-certificates systemd"
# This machine's own extra CAs (e.g. a TLS-inspecting egress proxy), so pip can reach PyPI from the chroot.
pip_env=()
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  in_root update-ca-certificates >>"$log" 2>&1
  pip_env+=(PIP_CERT=/etc/ssl/certs/ca-certificates.crt)
fi
# The installer: an admin user with passwordless sudo, like Raspberry Pi OS's first user.
in_root useradd --create-home --shell /bin/bash pi
echo 'pi ALL=(ALL) NOPASSWD: ALL' >"$root/etc/sudoers.d/010_pi-nopasswd"
chmod 0440 "$root/etc/sudoers.d/010_pi-nopasswd"
python_version=$(in_root sh -c 'apt-cache show --no-all-versions python3 | sed -n "s/^Version: //p"')
phase "image prepared like Raspberry Pi OS Lite (sudo, ca-certificates, systemd, user pi)"

# The source the guide clones, taken from this working tree as it is now (uncommitted edits included).
if git rev-parse --git-dir >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      if [ -f "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
    done | tar --null -T - -cf "$root/tmp/loa-xa-src.tar"
else
  tar --exclude=./.venv --exclude=./.git --exclude='*.egg-info' --exclude=__pycache__ -cf "$root/tmp/loa-xa-src.tar" .
fi
chmod 0644 "$root/tmp/loa-xa-src.tar"

# --- the controller, on the host ----------------------------------------------------------------------
local_controller_start deb
host_pids+=("$controller_pid")

# --- 2. the guide's shell blocks ------------------------------------------------------------------------
# guide_block N: section N's ```sh block, with the rehearsal's replacements; each must match exactly once,
# so a changed guide fails here, by name, instead of being rehearsed half-way.
guide_block() {
  GUIDE_BASE=$base GUIDE_TOKEN=${token:-} "$dev" - "$repo/firmware_config/INSTALL.en.md" "$1" <<'PY'
import os, re, sys

path, section = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
found = re.search(rf"^## {section}\. [^\n]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
block = found and re.search(r"^```sh\n(.*?)^```", found.group(1), re.M | re.S)
if not block:
    sys.exit(f"INSTALL.en.md has no ```sh block in section {section}")
script = block.group(1)
lgpio = ("if apt-cache show python3-lgpio >/dev/null 2>&1; then sudo apt-get install -y python3-lgpio; "
         "else echo 'rehearsal: Debian 12 has no python3-lgpio (Raspberry Pi OS does); the pins are mocked'; fi")
# (section, pattern, replacement, why)
REPLACE = [
    ("2", r"^sudo apt-get install -y python3-lgpio\b.*$", lgpio, "python3-lgpio comes from Raspberry Pi OS's archive"),
    ("3", r"^git clone .*$", "mkdir -p /opt/loa-xa/src && tar -xf /tmp/loa-xa-src.tar -C /opt/loa-xa/src",
     "this working tree is copied instead of cloned"),
    ("4", r"https://loa\.nghean\.example\.vn", os.environ["GUIDE_BASE"], "the local controller"),
    ("4", r"'loa-enroll\.v1\.…'", "'" + os.environ["GUIDE_TOKEN"] + "'", "a token minted for this run"),
    ("5", r"^sudo systemctl restart chrony\b", "sudo chronyd -x",
     "no systemd running in a chroot; -x: chronyd leaves the host's clock alone"),
    ("6", r"^sudo systemctl daemon-reload && sudo systemctl enable --now loa-agent$",
     "sudo systemctl enable loa-agent\n"
     "verify=$(sudo systemd-analyze verify /etc/systemd/system/loa-agent.service 2>&1); echo \"$verify\"\n"
     "if grep -qF loa-agent.service: <<<\"$verify\"; then exit 1; fi",
     "no systemd running: enable offline and verify the unit; the agent is started below as the unit would"),
    ("6", r"^systemctl status loa-agent$", ": systemctl status",
     "its Status line is read from the agent's notify socket below"),
]
for sec, pattern, new, why in REPLACE:
    if sec != section:
        continue
    script, n = re.subn(pattern, lambda _m: new, script, flags=re.M)
    if n != 1:
        sys.exit(f"INSTALL.en.md section {section} changed: {pattern!r} matched {n} times, not once; "
                 "update scripts/check-agent-install-debian.sh")
    print(f"  rehearsal, section {section}: {why}", file=sys.stderr)
print(script)
PY
}
run_guide() {  # run_guide N TITLE
  local file=$root/tmp/guide-$1.sh
  {
    echo "set -euo pipefail"
    echo "cd \"\$HOME\""
    echo "PS4='+ guide $1: '"
    echo "set -x"
    guide_block "$1" 2>"$work/notes" || { cat "$work/notes" >&2; fail "reading section $1 of INSTALL.en.md"; }
  } >"$file"
  echo "--- guide section $1 ($2), as run:" >>"$log"
  cat "$file" >>"$log"
  cat "$work/notes"
  as_pi env "${pip_env[@]}" bash "/tmp/guide-$1.sh" >>"$log" 2>&1 || fail "guide section $1 ($2)"
  phase "guide section $1: $2"
}

run_guide 2 "system packages"
run_guide 3 "the agent, agent extra only"
echo "  Python in the chroot: $(in_root /opt/loa-xa/venv/bin/python --version) (Debian's python3 $python_version)"
forbidden=$(forbidden_in in_root /opt/loa-xa/venv/bin/python)
[ -z "$forbidden" ] || fail "the agent-only install pulled in $forbidden"

local_controller_wait || fail "the controller did not start"
token=$(enrolment_token "$agent_id" deb)
run_guide 4 "enrol"
for expect in "/etc/loa-xa 750 root:loa" "/etc/loa-xa/agent.toml 640 root:loa" "/etc/loa-xa/mqtt-password 600 loa:loa"; do
  read -r file _ <<<"$expect"
  got="$file $(in_root stat -c '%a %U:%G' "$file")"
  [ "$got" = "$expect" ] || fail "after step 4: $got, not $expect"
done
# The sound check the guide asks for after enrolling; a chroot has no sound card, so ALSA's null device.
sound_check=$(grep -o 'speaker-test -D default [^`]*' "$repo/firmware_config/INSTALL.en.md" | head -n 1)
[ -n "$sound_check" ] || fail "INSTALL.en.md no longer names its speaker-test check"
# shellcheck disable=SC2086
as_pi ${sound_check/-D default/-D null} >>"$log" 2>&1 || fail "${sound_check/-D default/-D null}"

if ! "$dev" -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("127.0.0.1", 323))' 2>/dev/null; then
  echo "  note: something on this host (its own chronyd?) holds 127.0.0.1:323; chronyc in the chroot may reach it"
fi
run_guide 5 "time (chrony)"
makesteps=$(in_root chronyd -p -f /etc/chrony/chrony.conf | grep '^makestep' || true)
[ "$makesteps" = "makestep 1.0 -1" ] || fail "chrony's effective makestep lines are: ${makesteps:-none}"
# The agent's telemetry runs `chronyc -c tracking` as its own user: chronyd must answer it.
loa_chronyc=$(in_root setpriv --reuid loa --regid loa --init-groups chronyc -c tracking 2>&1) ||
  fail "chronyc as the agent's user: $loa_chronyc"
run_guide 6 "start on boot (systemd)"
[ -L "$root/etc/systemd/system/multi-user.target.wants/loa-agent.service" ] || fail "loa-agent is not enabled"

# --- 3. start the agent as loa-agent.service would ------------------------------------------------------
unit=$root/etc/systemd/system/loa-agent.service
unit_get() { sed -n "s/^$1=//p" "$unit"; }
read -r -a exec_start <<<"$(unit_get ExecStart)"
user=$(unit_get User)
group=$(unit_get Group)
groups=$(unit_get SupplementaryGroups | tr ' ' ',')
umask_=$(unit_get UMask)
state_dir=/var/lib/$(unit_get StateDirectory)
watchdog_s=$(unit_get WatchdogSec)
stop_timeout_s=$(unit_get TimeoutStopSec)
unit_env=()
while IFS= read -r line; do [ -n "$line" ] && unit_env+=("$line"); done < <(unit_get Environment)
# StateDirectory=: systemd makes it, owned by the unit's user, before the start.
install -d -m "$(unit_get StateDirectoryMode)" "$root$state_dir"
in_root chown "$user:$group" "$state_dir"
# Type=notify: a datagram socket like systemd's, to see READY=1, WATCHDOG=1 and STOPPING=1 arrive.
"$dev" - "$root/run/loa-agent.notify" "$work/notify.log" <<'PY' &
import os, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(sock.recv(65536).decode("utf-8", "replace").replace("\n", " | ") + "\n")
PY
host_pids+=($!)
for _ in $(seq 1 50); do [ -S "$root/run/loa-agent.notify" ] && break; sleep 0.1; done
# Mock pins: no GPIO header here. The inner sh sets the umask and WATCHDOG_PID (its own pid, which exec
# hands on to the agent), as systemd would. The agent's environment is what systemd would give it.
# shellcheck disable=SC2016
chroot "$root" /usr/bin/env -i "${base_env[@]}" "${unit_env[@]}" HOME="$state_dir" USER="$user" LOGNAME="$user" \
  SHELL=/usr/sbin/nologin STATE_DIRECTORY="$state_dir" CONFIGURATION_DIRECTORY=/etc/loa-xa \
  NOTIFY_SOCKET=/run/loa-agent.notify WATCHDOG_USEC=$((watchdog_s * 1000000)) GPIOZERO_PIN_FACTORY=mock \
  setpriv --reuid "$user" --regid "$group" --groups "$groups" --no-new-privs \
  /bin/sh -c 'umask "$0"; cd /; WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"' "$umask_" "${exec_start[@]}" \
  </dev/null >"$work/agent.log" 2>&1 &
agent_pid=$!
host_pids+=("$agent_pid")
status=unknown
for _ in $(seq 1 150); do
  status=$(agent_status "$agent_id")
  [ "$status" = online ] && break
  kill -0 "$agent_pid" 2>/dev/null || break
  sleep 0.2
done
[ "$status" = online ] || { cat "$work/agent.log" >>"$log"; fail "the agent never came online (status $status)"; }
phase "agent started as the unit would; the controller lists it online"
sleep 1
# What `systemctl status loa-agent` would show, and the watchdog's pings.
for state in READY=1 WATCHDOG=1 "STATUS=online at mqtt://"; do
  grep -q "$state" "$work/notify.log" || fail "the agent never sent $state to the notify socket"
done
if grep -qE "ERROR|CRITICAL|Traceback" "$work/agent.log"; then
  cat "$work/agent.log" >>"$log"
  fail "the agent logged errors"
fi
[ "$(awk '/^Uid:/ {print $2}' "/proc/$agent_pid/status")" = "$(in_root id -u "$user")" ] || fail "the agent is not running as $user"
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$agent_pid/status" || fail "the agent may gain privileges"
rss=$(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$agent_pid/status")

# KillSignal=SIGTERM: the agent says offline and exits cleanly within TimeoutStopSec.
kill -TERM "$agent_pid"
for _ in $(seq 1 $((stop_timeout_s * 5))); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.2; done
kill -0 "$agent_pid" 2>/dev/null && fail "the agent did not stop within ${stop_timeout_s} s of SIGTERM"
agent_rc=0
wait "$agent_pid" || agent_rc=$?
[ "$agent_rc" = 0 ] || { cat "$work/agent.log" >>"$log"; fail "the agent exited with $agent_rc after SIGTERM"; }
grep -q "STOPPING=1" "$work/notify.log" || fail "the agent never sent STOPPING=1"
for _ in $(seq 1 50); do
  status=$(agent_status "$agent_id")
  [ "$status" = offline ] && break
  sleep 0.2
done
[ "$status" = offline ] || fail "after SIGTERM the controller lists the agent $status, not offline"
phase "SIGTERM: clean exit, listed offline"

echo "clean Debian install rehearsal: ok (Debian 12 minbase, python3 $python_version; INSTALL.en.md sections 2-6;" \
  "$agent_id enrolled, online as $user with mock GPIO, RSS $rss, stopped cleanly; $((SECONDS - started)) s)"
