"""firmware_config/agent.example.toml stays loadable and documents every key the agent accepts."""

from __future__ import annotations

import re
from pathlib import Path

from edge_agent.config import AgentConfig, load_config
from protocol.signing import encode_public_key, generate_private_key

EXAMPLE = Path(__file__).resolve().parents[1] / "firmware_config" / "agent.example.toml"


def test_example_config_loads_once_the_key_is_filled_in(tmp_path: Path) -> None:
    key = encode_public_key(generate_private_key().public_key())
    text = EXAMPLE.read_text().replace("REPLACE-WITH-THE-KEY-FROM-GET-/api/system", key)
    path = tmp_path / "agent.toml"
    path.write_text(text)
    config = load_config(path)
    assert config.controller_public_key == key
    assert config.amplifier_active_high is False


def test_example_config_mentions_every_key() -> None:
    documented = set(re.findall(r"^#?\s*([a-z_]+)\s*=", EXAMPLE.read_text(), flags=re.MULTILINE))
    assert set(AgentConfig.model_fields) <= documented, set(AgentConfig.model_fields) - documented
