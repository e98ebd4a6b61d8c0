"""Deliberate crash points, for crash tests and the simulator. Inert unless `LOA_AGENT_FAULT` is set."""

from __future__ import annotations

import logging
import os
import sys

FAULT_ENV = "LOA_AGENT_FAULT"
EXIT_BEFORE_CONFIRM = "exit-before-confirm"
"""Exit right after a `finished` confirmation is durably in the outbox, before it is published."""
MID_DOWNLOAD = "mid-download"
"""Exit after a chunk of audio reached the partial download file."""
MID_PLAY = "mid-play"
"""Exit while audio plays, right after the `started` confirmation is durable."""
MID_WRITE = "mid-write"
"""Exit inside a state transaction, after its writes and before its COMMIT."""
FAULT_EXIT_CODE = 86
AFTER_ENV = "LOA_AGENT_FAULT_AFTER"
"""With `LOA_AGENT_FAULT`: die at the Nth time the point is reached (default 1)."""
_hits: dict[str, int] = {}

log = logging.getLogger(__name__)


def fault_point(name: str) -> None:
    """Kill the process at once with exit code 86 when `LOA_AGENT_FAULT` equals `name`
    (at its `LOA_AGENT_FAULT_AFTER`-th hit).

    `os._exit` skips every `finally`, flush and atexit handler, as a power cut would.
    """
    if os.environ.get(FAULT_ENV) != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(os.environ.get(AFTER_ENV, "1") or 1):
        log.critical("fault injection: %s=%s, exiting with code %d", FAULT_ENV, name, FAULT_EXIT_CODE)
        sys.stderr.flush()
        os._exit(FAULT_EXIT_CODE)
