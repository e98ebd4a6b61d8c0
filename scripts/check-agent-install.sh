#!/usr/bin/env bash
# Install loa-xa with the `agent` extra alone into a throwaway venv, prove that no controller
# library came with it, and that `loa agent` starts far enough to reject a bad config.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)/agent-venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
"${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q ".[agent]"
for forbidden in fastapi sqlalchemy pydub alembic apscheduler uvicorn amqtt; do
  if "$venv/bin/python" -m pip show -q "$forbidden" >/dev/null 2>&1; then
    echo "agent-only install pulled in $forbidden" >&2
    exit 1
  fi
done
"$venv/bin/loa" agent --help >/dev/null
printf 'agent_id = "Bad Id"\n' > "$(dirname "$venv")/bad.toml"
if out=$("$venv/bin/loa" agent --config "$(dirname "$venv")/bad.toml" 2>&1); then
  echo "loa agent accepted a bad config" >&2
  exit 1
fi
echo "$out" | grep -q "agent_id" || { echo "config error did not name the key: $out" >&2; exit 1; }
echo "agent-only install: ok (no controller libraries; loa agent runs and names bad keys)"
