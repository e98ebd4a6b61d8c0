"""Deliberate crash points, for crash tests and the simulator. Inert unless `LOA_AGENT_FAULT` is set."""

from __future__ import annotations

import logging
import os
import sys

FAULT_ENV = "LOA_AGENT_FAULT"
EXIT_BEFORE_CONFIRM = "exit-before-confirm"
"""Exit right after a `finished` confirmation is durably in the outbox, before it is published."""
FAULT_EXIT_CODE = 86

log = logging.getLogger(__name__)


def fault_point(name: str) -> None:
    """Kill the process at once with exit code 86 when `LOA_AGENT_FAULT` equals `name`.

    `os._exit` skips every `finally`, flush and atexit handler, as a power cut would.
    """
    if os.environ.get(FAULT_ENV) == name:
        log.critical("fault injection: %s=%s, exiting with code %d", FAULT_ENV, name, FAULT_EXIT_CODE)
        sys.stderr.flush()
        os._exit(FAULT_EXIT_CODE)
