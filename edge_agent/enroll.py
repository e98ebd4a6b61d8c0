"""Enrol a new Pi: redeem the admin's one-time token at the controller, then write the agent's config.

`python -m edge_agent.enroll --controller https://controller.example.vn --token loa-enroll.v1.…`
(firmware_config/loa-enroll is the same). It writes the MQTT password to its own file with mode
0600 and the TOML config (mode 0640) that points at it; nothing else on the Pi holds a secret.
Only the standard library (urllib), so it runs with the `agent` extra alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.broker_url import redact_url
from edge_agent.config import load_config
from edge_agent.identity import load_or_create_identity


class EnrollError(Exception):
    """The controller refused the token or could not be reached; the message says why, in Vietnamese too."""


@dataclass(frozen=True)
class Enrollment:
    agent_id: str
    username: str
    password: str
    broker_url: str
    controller_public_key: str
    topic_root: str
    media_base_url: str


def redeem(controller_url: str, token: str, *, public_key: str | None = None, timeout: float = 30.0) -> Enrollment:
    """POST the token (and the agent's public key, v1.2) to `{controller_url}/api/enroll`; return what was granted."""
    body_out: dict[str, str] = {"token": token.strip()}
    if public_key is not None:
        body_out["public_key"] = public_key
    request = urllib.request.Request(
        f"{controller_url.rstrip('/')}/api/enroll",
        data=json.dumps(body_out).encode("utf-8"),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EnrollError(f"cannot reach the controller at {controller_url}: {reason}") from exc
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = None
    if status != 201:
        detail = body.get("detail") if isinstance(body, dict) else None
        text = raw.decode("utf-8", "replace")[:200]
        raise EnrollError(f"the controller refused the enrolment (HTTP {status}): {detail or text}")
    if not isinstance(body, dict) or any(k not in body for k in Enrollment.__dataclass_fields__):
        raise EnrollError(f"the controller at {controller_url} answered the enrolment with something unexpected")
    return Enrollment(**{k: str(body[k]) for k in Enrollment.__dataclass_fields__})


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_files(
    enrollment: Enrollment,
    config_path: Path,
    *,
    state_dir: Path,
    password_file: Path | None = None,
    extra: dict[str, str | int | float | bool] | None = None,
) -> Path:
    """Write the password file (0600) and the agent TOML (0640); check the result loads. Returns the config path."""
    password_file = password_file or config_path.with_name("mqtt-password")
    password_file.parent.mkdir(parents=True, exist_ok=True)
    _write_private(password_file, enrollment.password + "\n", 0o600)
    values: dict[str, str | int | float | bool] = {
        "agent_id": enrollment.agent_id,
        "broker_url": enrollment.broker_url,
        "username": enrollment.username,
        "password_file": str(password_file),
        "controller_public_key": enrollment.controller_public_key,
        "topic_root": enrollment.topic_root,
        "state_dir": str(state_dir),
        "media_base_url": enrollment.media_base_url,
    }
    values.update(extra or {})
    lines = ["# Written by loa-enroll. Every key is documented in firmware_config/agent.example.toml."]
    for key, value in values.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float):
            text = repr(value)
        else:
            text = _toml_string(value)
        lines.append(f"{key} = {text}")
    config_path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(config_path, "\n".join(lines) + "\n", 0o640)
    load_config(config_path)  # fail here, naming the key, rather than at the first start
    return config_path


def _write_private(path: Path, text: str, mode: int) -> None:
    """Write atomically, created with `mode` from the start: never readable by others, even briefly."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with open(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, mode)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="loa-enroll", description="Enrol this Pi with the loa-xa controller and write its agent config."
    )
    parser.add_argument("--controller", required=True, help="the controller's base URL, e.g. https://loa.example.vn")
    parser.add_argument("--token", required=True, help="the one-time enrolment token from the administrator")
    parser.add_argument("--config", type=Path, default=Path("/etc/loa-xa/agent.toml"))
    parser.add_argument("--password-file", type=Path, default=None, help="default: mqtt-password beside --config")
    parser.add_argument("--state-dir", type=Path, default=Path("/var/lib/loa-xa"))
    parser.add_argument("--player", choices=("alsa", "virtual"), default="alsa")
    parser.add_argument("--alsa-device", default="default")
    parser.add_argument("--status-led-pin", type=int)
    parser.add_argument("--stop-button-pin", type=int)
    args = parser.parse_args(argv)
    extra: dict[str, str | int | float | bool] = {"player": args.player, "alsa_device": args.alsa_device}
    if args.status_led_pin is not None:
        extra["status_led_pin"] = args.status_led_pin
    if args.stop_button_pin is not None:
        extra["stop_button_pin"] = args.stop_button_pin
    try:
        # The post makes its own key pair here; only the public half leaves it (protocol v1.2).
        identity = load_or_create_identity(args.state_dir)
        granted = redeem(args.controller, args.token, public_key=identity.public_key)
        path = write_files(
            granted, args.config, state_dir=args.state_dir, password_file=args.password_file, extra=extra
        )
    except Exception as exc:
        print(f"loa-enroll: {exc}", file=sys.stderr)
        return 1
    print(f"enrolled {granted.agent_id}: config {path}, broker {redact_url(granted.broker_url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
