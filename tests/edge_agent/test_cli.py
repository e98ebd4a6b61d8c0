"""`edge_agent.cli.run_agent`, the function behind `loa agent --config FILE`."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent import AlsaPlayer, VirtualPlayer
from edge_agent.cli import pin_factory_for, player_for, run_agent
from tests.edge_agent.conftest import ConfigFactory


def test_a_bad_config_exits_2_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "agent.toml"
    path.write_text('agent_id = "a1"\nbroker_url = "mqtt://h"\nstate_dir = "s"\nvolume = 300\n')
    assert run_agent(path) == 2
    err = capsys.readouterr().err
    assert "volume:" in err and "controller_public_key: required key is missing" in err


def test_player_and_pins_follow_the_config(make_config: ConfigFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    virtual = make_config(player="virtual")
    assert isinstance(player_for(virtual), VirtualPlayer)
    pins = pin_factory_for(virtual)
    assert type(pins).__name__ == "MockFactory"
    pins.close()

    alsa = make_config(player="alsa", alsa_device="hw:1", player_command=["mpg123", "{file}"])
    player = player_for(alsa)
    assert isinstance(player, AlsaPlayer) and (player.device, player.command) == ("hw:1", ("mpg123", "{file}"))
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    assert pin_factory_for(alsa) is None  # gpiozero's default: the Pi's real pins
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    mock = pin_factory_for(alsa)
    assert type(mock).__name__ == "MockFactory"
    mock.close()
