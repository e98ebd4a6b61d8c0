"""firmware_config/ stays loadable, documents every key the agent accepts, and ships no default secret."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edge_agent.config import AgentConfig, load_config
from edge_agent.errors import ConfigError
from protocol.signing import encode_public_key, generate_private_key

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware_config"
EXAMPLE = FIRMWARE / "agent.example.toml"
KEY_PLACEHOLDER = "REPLACE-WITH-THE-KEY-FROM-GET-/api/system"
PASSWORD_PLACEHOLDER = "REPLACE-WITH-THIS-AGENT'S-OWN-PASSWORD"


def filled_in(tmp_path: Path, *, password: str | None = "a-real-password") -> Path:
    key = encode_public_key(generate_private_key().verify_key)
    text = EXAMPLE.read_text().replace(KEY_PLACEHOLDER, key)
    if password is not None:
        text = text.replace(PASSWORD_PLACEHOLDER, password)
    path = tmp_path / "agent.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_example_config_loads_once_key_and_password_are_filled_in(tmp_path: Path) -> None:
    config = load_config(filled_in(tmp_path))
    assert config.amplifier_active_high is False
    assert (config.status_led_pin, config.stop_button_pin) == (27, 22)
    assert config.quiet_hours.describe() == "21:00-05:00 Asia/Ho_Chi_Minh"


def test_example_placeholder_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="password: is empty or still the example's placeholder"):
        load_config(filled_in(tmp_path, password=None))


def test_example_config_mentions_every_key() -> None:
    documented = set(re.findall(r"^#?\s*([a-z_]+)\s*=", EXAMPLE.read_text(), flags=re.MULTILINE))
    assert set(AgentConfig.__struct_fields__) <= documented, set(AgentConfig.__struct_fields__) - documented


def test_no_firmware_file_carries_a_usable_default_password() -> None:
    """Templates hold placeholders only; nothing that looks like a real secret ships."""
    for path in FIRMWARE.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in re.finditer(r'^\s*password\s*=\s*"([^"]*)"', text, flags=re.MULTILINE):
            assert match.group(1).startswith("REPLACE-WITH"), (path, match.group(0))


# -- the Mosquitto ACL and password template, on a real Mosquitto ---------------------------------------


def test_systemd_unit_restarts_always_has_a_watchdog_and_is_hardened() -> None:
    unit = (FIRMWARE / "systemd" / "loa-agent.service").read_text()
    for line in ("Type=notify", "Restart=always", "WatchdogSec=", "NoNewPrivileges=yes", "ProtectSystem=strict"):
        assert re.search(rf"^{re.escape(line)}", unit, flags=re.MULTILINE), line
    assert "User=root" not in unit


@pytest.mark.asyncio
async def test_mosquitto_acl_keeps_each_agent_to_its_own_topics(tmp_path: Path) -> None:
    import asyncio
    import os
    import shutil
    import subprocess

    import aiomqtt

    from simulator.local import free_port, mosquitto_exe, wait_for_port

    passwd_tool = shutil.which("mosquitto_passwd")
    if passwd_tool is None:
        pytest.skip("mosquitto_passwd is not installed")
    root = "aclt/loa/v1"
    acl = (FIRMWARE / "mosquitto" / "loa-xa.acl").read_text().replace("loa/v1/", f"{root}/")
    (tmp_path / "acl").write_text(acl)
    passwd = tmp_path / "passwd"
    logins = {"loa-controller": "ctl-secret-1", "xa-a": "a-secret-1", "xa-b": "b-secret-1"}
    for user, password in logins.items():
        subprocess.run(
            [passwd_tool, *(["-c"] if not passwd.exists() else []), "-b", str(passwd), user, password], check=True
        )
    port = free_port()
    (tmp_path / "m.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwd}\nacl_file {tmp_path / 'acl'}\n"
        "persistence false\n" + ("user root\n" if os.geteuid() == 0 else "")  # root would switch to "mosquitto"
    )
    log = (tmp_path / "mosquitto.log").open("wb")
    proc = subprocess.Popen([mosquitto_exe(), "-c", str(tmp_path / "m.conf")], stdout=log, stderr=log)
    try:
        wait_for_port(port)

        def client(user: str | None, password: str | None = None) -> aiomqtt.Client:
            return aiomqtt.Client("127.0.0.1", port, username=user, password=password, identifier=f"t-{user}")

        with pytest.raises(aiomqtt.MqttError):
            async with client(None):
                pass
        with pytest.raises(aiomqtt.MqttError):
            async with client("xa-a", "wrong"):
                pass
        async with client("loa-controller", logins["loa-controller"]) as ctl, client("xa-a", logins["xa-a"]) as a:
            await ctl.subscribe(f"{root}/agents/+/confirmations", qos=1)
            await a.subscribe(f"{root}/agents/xa-a/commands", qos=1)
            await a.subscribe(f"{root}/agents/xa-b/commands", qos=1)  # someone else's: nothing will arrive
            await ctl.publish(f"{root}/agents/xa-b/commands", b"for b", qos=1)
            await ctl.publish(f"{root}/agents/xa-a/commands", b"for a", qos=1)
            await a.publish(f"{root}/agents/xa-b/confirmations", b"forged as b", qos=1)
            await a.publish(f"{root}/agents/xa-a/confirmations", b"from a", qos=1)

            async def first(c: aiomqtt.Client) -> bytes:
                async for m in c.messages:
                    return bytes(m.payload) if isinstance(m.payload, bytes | bytearray) else b""
                return b""

            assert await asyncio.wait_for(first(a), 5) == b"for a"
            assert await asyncio.wait_for(first(ctl), 5) == b"from a"
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(first(a), 0.5)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(first(ctl), 0.5)
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
