"""loa-xa: commune loudspeaker broadcast controller, edge agent and simulator."""

__version__ = "0.1.0"
