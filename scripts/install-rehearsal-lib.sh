# shellcheck shell=bash disable=SC2154,SC2034  # $dev and $work come from the sourcing script, which reads $controller_pid
# Sourced by the installer's-guide rehearsals (check-agent-install.sh, check-agent-install-debian.sh): a local
# controller from the dev venv, its API, an enrolment token, and what an agent-only venv must not hold.
# Needs $dev (the dev venv's python) and $work (a scratch directory). Sets $base, $admin_password, $controller_pid.

FORBIDDEN_ON_THE_AGENT="fastapi sqlalchemy pydub alembic apscheduler uvicorn amqtt pydantic cryptography httpx"
# What the `agent` extra must never pull in: controller libraries, and heavy ones the agent no longer needs.

free_port() { "$dev" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# local_controller_start TOPIC_PREFIX: the controller with its embedded broker, in the background.
local_controller_start() {
  local http_port mqtt_port
  http_port=$(free_port)
  mqtt_port=$(free_port)
  admin_password=$("$dev" -c 'import secrets; print(secrets.token_urlsafe(18))')
  base="http://127.0.0.1:$http_port"
  LOA_ADMIN_USERNAME=install-admin LOA_ADMIN_PASSWORD=$admin_password LOA_TOPIC_ROOT="$1$$/loa/v1" \
    "$dev" -m loa.cli controller --port "$http_port" --mqtt-port "$mqtt_port" --data-dir "$work/controller" \
    >"$work/controller.log" 2>&1 &
  controller_pid=$!
}

# local_controller_wait: until it answers (20 s); its log and a non-zero status otherwise.
local_controller_wait() {
  local _
  for _ in $(seq 1 100); do
    curl -fsS "$base/api/system" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  cat "$work/controller.log" >&2
  echo "the controller did not start" >&2
  return 1
}

api() { curl -fsS -u "install-admin:$admin_password" -H 'Content-Type: application/json' "$@"; }

# enrolment_token AGENT_ID CODE: a province and commune named CODE-p and CODE-c, and a one-time token for the agent.
enrolment_token() {
  local province
  province=$(api -d "{\"code\": \"$2-p\", \"name\": \"Nghệ An\"}" "$base/api/provinces" |
    "$dev" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  api -d "{\"province_id\": $province, \"code\": \"$2-c\", \"name\": \"Trung Lộc\"}" "$base/api/communes" >/dev/null
  "$dev" -m controller.services.enrollment --data-dir "$work/controller" "$1" "$2-c"
}

# agent_status AGENT_ID: online, offline, unknown, or None when the controller does not know it.
agent_status() {
  api "$base/api/agents" |
    "$dev" -c 'import json,sys; print({a["id"]: a["status"] for a in json.load(sys.stdin)}.get(sys.argv[1]))' "$1"
}

# forbidden_in PYTHON...: prints the first forbidden distribution that PYTHON's environment holds, if any.
forbidden_in() {
  local name
  for name in $FORBIDDEN_ON_THE_AGENT; do
    if "$@" -m pip show -q "$name" >/dev/null 2>&1; then
      echo "$name"
      return 0
    fi
  done
}
