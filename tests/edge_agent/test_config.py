"""Agent TOML config: defaults, and errors that name the bad key."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from edge_agent import ConfigError, load_config
from protocol.signing import encode_public_key, generate_private_key

KEY = encode_public_key(generate_private_key().verify_key)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text, encoding="utf-8")
    return path


def minimal(**extra: str) -> str:
    lines = {
        "agent_id": '"xa-dong-01"',
        "broker_url": '"mqtts://broker.example.vn:8883"',
        "controller_public_key": f'"{KEY}"',
        "state_dir": '"/var/lib/loa-agent"',
    }
    lines.update(extra)
    return "".join(f"{k} = {v}\n" for k, v in lines.items())


def test_minimal_config_gets_the_documented_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, minimal()))
    assert config.agent_id == "xa-dong-01"
    assert (config.topic_root, config.player, config.alsa_device, config.volume) == ("loa/v1", "alsa", "default", 80)
    assert (config.amplifier_pin, config.amplifier_active_high) == (17, False)
    assert (config.amplifier_warmup_s, config.amplifier_cooldown_s) == (1.0, 2.0)
    assert config.broker.tls and config.broker.port == 8883
    assert config.media_dir == Path("/var/lib/loa-agent/media")


def test_full_config(tmp_path: Path) -> None:
    text = minimal(
        broker_url='"mqtt://10.0.0.5:1884"',
        username='"xa-dong-01"',
        password='"s3cret"',
        media_base_url='"http://10.0.0.5:8000"',
        amplifier_pin="27",
        amplifier_active_high="true",
        volume="65",
        player='"virtual"',
        player_command='["mpg123", "-q", "{file}"]',
        keepalive_s="20",
    )
    config = load_config(write(tmp_path, text))
    assert (config.broker.host, config.broker.port, config.broker.tls) == ("10.0.0.5", 1884, False)
    assert (config.broker.username, config.broker.password) == ("xa-dong-01", "s3cret")
    assert config.player_command == ("mpg123", "-q", "{file}")
    assert "s3cret" not in repr(config)


def test_relative_state_dir_is_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, minimal(state_dir='"state"')))
    assert config.state_dir == tmp_path / "state"


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"agent_id": '"Xã Đông"'}, "agent_id"),
        ({"broker_url": '"http://broker:1883"'}, "broker_url"),
        ({"controller_public_key": '"not-a-key"'}, "controller_public_key"),
        ({"volume": "120"}, "volume"),
        ({"player": '"pulseaudio"'}, "player"),
        ({"amplifier_pin": '"seventeen"'}, "amplifier_pin"),
        ({"topic_root": '"loa/#"'}, "topic_root"),
        ({"media_base_url": '"ftp://files"'}, "media_base_url"),
        ({"player_command": '["mpg123"]'}, "player_command"),
        ({"amplifer_pin": "17"}, "amplifer_pin"),  # a typo is an unknown key, not silently ignored
    ],
)
def test_invalid_values_name_the_key(tmp_path: Path, override: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError, match=rf"\b{key}: ") as info:
        load_config(write(tmp_path, minimal(**override)))
    assert isinstance(info.value, ValueError)


def test_missing_required_key_is_named(tmp_path: Path) -> None:
    text = minimal().replace(f'controller_public_key = "{KEY}"\n', "")
    with pytest.raises(ConfigError, match="controller_public_key: required key is missing"):
        load_config(write(tmp_path, text))


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "agent_id = \n"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")


# -- keys added for a real post: quiet hours, admin key, pins, cache, secrets ----------------------


def test_quiet_hours_default_to_21_to_05_in_ho_chi_minh(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, minimal()))
    assert config.quiet_hours.describe() == "21:00-05:00 Asia/Ho_Chi_Minh"
    assert config.admin_key is None and config.status_led_pin is None and config.stop_button_pin is None


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("quiet_hours_start", '"9pm"', "quiet_hours_start: expected a local time as HH:MM"),
        ("quiet_hours_end", '"25:00"', "quiet_hours_end: expected a local time as HH:MM"),
        ("timezone", '"Asia/Hanoi-ish"', "timezone: unknown time zone"),
        ("admin_public_key", '"c2hvcnQ="', "admin_public_key: controller public key must be base64"),
        ("cache_max_bytes", "1000", "cache_max_bytes:"),
        ("password", '""', "password: is empty"),
        ("status_led_pin", "17", "status_led_pin: GPIO 17 is already the amplifier_pin"),
        ("reboot_command", "[]", "reboot_command: must be a non-empty list"),
    ],
)
def test_invalid_new_keys_are_named(tmp_path: Path, key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, minimal(**{key: value})))
    assert message in str(err.value)


def test_password_file_must_be_private(tmp_path: Path) -> None:
    secret = tmp_path / "mqtt-password"
    secret.write_text("hunter2-but-long\n")
    secret.chmod(0o644)
    path = write(tmp_path, minimal(username='"xa-dong-01"', password_file='"mqtt-password"'))
    with pytest.raises(ConfigError, match=r"password_file: .* is readable by others \(mode 644\); chmod 600"):
        load_config(path)
    secret.chmod(0o600)
    config = load_config(path)
    assert config.password_file == secret
    assert (config.broker.username, config.broker.password) == ("xa-dong-01", "hunter2-but-long")


def test_password_and_password_file_together_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("x" * 20)
    secret.chmod(0o600)
    with pytest.raises(ConfigError, match="give either password or password_file"):
        load_config(write(tmp_path, minimal(password='"abc"', password_file='"pw"')))


def test_inline_password_in_a_readable_file_is_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, minimal(password='"s3cret-s3cret"'))
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="edge_agent.config"):
        load_config(path)
    assert "others can read it; chmod 600" in caplog.text
    caplog.clear()
    path.chmod(0o600)
    load_config(path)
    assert "chmod 600" not in caplog.text


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    """An installer fixes the file in one go: unknown, missing, mistyped and invalid keys all in one message."""
    text = 'agent_id = "Bad Id"\nvolume = "loud"\nvolum = 80\nquiet_hours_start = "25:00"\n'
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    message = str(info.value)
    for part in (
        "volum: unknown key",
        "broker_url: required key is missing",
        "controller_public_key: required key is missing",
        "state_dir: required key is missing",
        "volume: Expected `int`, got `str`",
        "agent_id: invalid agent id 'Bad Id'",
        "quiet_hours_start:",
    ):
        assert part in message, (part, message)
