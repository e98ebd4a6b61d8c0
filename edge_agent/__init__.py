"""The edge agent: the daemon on each loudspeaker post's Raspberry Pi.

It verifies signed manifests and commands from the controller, downloads and checks audio,
plays it on time through the amplifier relay, and confirms every play through a durable outbox.
"""

from edge_agent.agent import Agent
from edge_agent.config import AgentConfig, load_config
from edge_agent.errors import AgentError, ConfigError, DownloadError
from edge_agent.hardware import Amplifier
from edge_agent.player import AlsaPlayer, Player, PlayOutcome, VirtualPlayer
from edge_agent.state import AgentStore, PlayStatus

__all__ = [
    "Agent",
    "AgentConfig",
    "AgentError",
    "AgentStore",
    "AlsaPlayer",
    "Amplifier",
    "ConfigError",
    "DownloadError",
    "PlayOutcome",
    "PlayStatus",
    "Player",
    "VirtualPlayer",
    "load_config",
]
