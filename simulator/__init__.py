"""The fleet simulator: many real `edge_agent.Agent`s with virtual players and their own mock pins."""

from simulator.fleet import Fleet, FleetProgress

__all__ = ["Fleet", "FleetProgress"]
