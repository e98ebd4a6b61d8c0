"""The agent's own Ed25519 key (protocol v1.2): made on the post, never sent anywhere, signs every report.

The controller learns the public key at enrolment and then refuses any report this key did not sign, so a
hostile broker or a stolen MQTT password cannot add a play to the report.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from pathlib import Path

from nacl.signing import SigningKey

from edge_agent.errors import AgentError
from protocol.messages import AgentMessage
from protocol.signing import Signer, encode_public_key

KEY_FILE = "agent_ed25519.key"

Seal = Callable[[str, AgentMessage], bytes]
"""Makes a report into the bytes sent on a topic: the agent's signed envelope (`AgentIdentity.seal`)."""


class AgentIdentity:
    """Signs this agent's reports for their topics."""

    def __init__(self, key: SigningKey) -> None:
        self._signer = Signer(key)
        self.public_key = encode_public_key(key.verify_key)
        """Base64 of the raw 32-byte public key, as enrolment sends it."""
        self.kid = self._signer.kid

    def seal(self, topic: str, message: AgentMessage) -> bytes:
        """The signed envelope of `message` for `topic`."""
        return self._signer.sign(topic, message)


def load_or_create_identity(state_dir: Path) -> AgentIdentity:
    """The agent's key from `{state_dir}/agent_ed25519.key` (mode 0600), made there on first use."""
    path = state_dir / KEY_FILE
    if path.exists():
        if path.stat().st_mode & 0o077:
            raise AgentError(f"{path} can be read by others: chmod 600 it (or delete it and enrol again)")
        try:
            raw = base64.b64decode(path.read_text().strip(), validate=True)
            return AgentIdentity(SigningKey(raw))
        except (binascii.Error, ValueError, TypeError) as exc:
            raise AgentError(f"{path} does not hold an Ed25519 key: {exc}") from None
    key = SigningKey.generate()
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w") as fh:
        fh.write(base64.b64encode(bytes(key)).decode("ascii") + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return AgentIdentity(key)
