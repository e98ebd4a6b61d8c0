"""Ed25519 signing of controller messages, and their verification on the agent.

The signature covers the topic as well as the payload, so a message signed for one agent's
topic cannot be replayed onto another's. See docs/protocol.md, "Signed envelope".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from protocol.codec import decode_agent_message, describe
from protocol.errors import MessageRejected, ProtocolError, RejectReason
from protocol.messages import ADMIN_ONLY_KINDS, AgentMessage, ControllerMessage, SignedMessage, WireModel, to_json

SIGNING_CONTEXT = b"loa-xa/v1\n"
_controller_decoder = msgspec.json.Decoder(ControllerMessage)


class SignedEnvelope(WireModel, frozen=True, kw_only=True):
    """What travels on a signed topic: the message JSON, and a signature over topic + JSON."""

    v: Literal[1] = 1
    alg: Literal["ed25519"] = "ed25519"
    kid: Annotated[str, Meta(min_length=1, max_length=64)]
    payload: str
    sig: str


_envelope_decoder = msgspec.json.Decoder(SignedEnvelope)

MAX_SIGNED_BYTES = 4 * 1024 * 1024
"""A signed message above this is refused unread. A 72-hour manifest of 500 plays is about 300 KiB."""


def key_id(public: VerifyKey) -> str:
    """A short, stable id for a public key: 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_key_bytes(public)).hexdigest()[:16]


def public_key_bytes(public: VerifyKey) -> bytes:
    return bytes(public)


def encode_public_key(public: VerifyKey) -> str:
    """The text form used in agent config: base64 of the raw 32-byte key."""
    return base64.b64encode(public_key_bytes(public)).decode("ascii")


def decode_public_key(text: str) -> VerifyKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        if len(raw) != 32:
            raise ValueError(f"{len(raw)} bytes")
        return VerifyKey(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ProtocolError("controller public key must be base64 of 32 raw Ed25519 bytes") from exc


def generate_private_key() -> SigningKey:
    return SigningKey.generate()


def write_private_key(key: SigningKey, path: Path) -> None:
    """Write the key as PKCS#8 PEM with mode 0600, never readable by others even briefly.

    PEM I/O is the controller's alone, so `cryptography` is imported here and never on the agent.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.from_private_bytes(bytes(key)).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = _open_private(tmp)
    with open(fd, "wb") as fh:
        fh.write(pem)
    tmp.replace(path)


def _open_private(path: Path) -> int:
    import os

    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)


def load_private_key(path: Path) -> SigningKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ProtocolError(f"{path} does not hold an Ed25519 private key")
    return SigningKey(key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption()))  # fmt: skip


def _signed_bytes(topic: str, payload: str) -> bytes:
    return SIGNING_CONTEXT + topic.encode("utf-8") + b"\n" + payload.encode("utf-8")


class Signer:
    """Signs controller messages for a topic."""

    def __init__(self, private_key: SigningKey) -> None:
        self._key = private_key
        self.public_key = private_key.verify_key
        self.kid = key_id(self.public_key)

    def sign(self, topic: str, message: SignedMessage | AgentMessage) -> bytes:
        """The signed envelope's bytes. Raises ProtocolError for a message that is not valid v1.

        The controller signs what it sends; since v1.2 an agent signs its reports with its own key the same way.
        """
        try:
            payload = to_json(message).decode("utf-8")
        except ValueError as exc:
            raise ProtocolError(str(exc)) from None
        sig = self._key.sign(_signed_bytes(topic, payload)).signature
        envelope = SignedEnvelope(kid=self.kid, payload=payload, sig=base64.b64encode(sig).decode("ascii"))
        return msgspec.json.encode(envelope)


class Verifier:
    """Checks a signed controller message addressed to one agent.

    Stateless checks only: envelope, key, signature, schema, address and validity window.
    Replay protection needs memory and lives with the agent's durable state.

    `admin_key`, when given, is a second, separately held key that alone may sign the
    admin-only kinds (`reboot`); it may sign nothing else, and the controller key may not sign those.
    """

    def __init__(
        self,
        public_key: VerifyKey,
        agent_id: str,
        *,
        max_clock_skew: timedelta = timedelta(minutes=5),
        admin_key: VerifyKey | None = None,
    ) -> None:
        self._key = public_key
        self.kid = key_id(public_key)
        self._admin_key = admin_key
        self.admin_kid = key_id(admin_key) if admin_key is not None else None
        self.agent_id = agent_id
        self.max_clock_skew = max_clock_skew

    def verify(self, topic: str, data: bytes, now: datetime) -> SignedMessage:
        envelope = _open_envelope(data)
        if envelope.kid == self.kid:
            key, admin = self._key, False
        elif self._admin_key is not None and envelope.kid == self.admin_kid:
            key, admin = self._admin_key, True
        else:
            raise MessageRejected(RejectReason.UNKNOWN_KEY, f"key id {envelope.kid} is not the controller's")
        try:
            sig = base64.b64decode(envelope.sig, validate=True)
            key.verify(_signed_bytes(topic, envelope.payload), sig)
        except (binascii.Error, BadSignatureError, ValueError):
            raise MessageRejected(RejectReason.BAD_SIGNATURE, "signature does not match") from None
        try:
            message: SignedMessage = _controller_decoder.decode(envelope.payload)
        except RecursionError:
            raise MessageRejected(RejectReason.MALFORMED, "signed payload nested too deeply") from None
        except msgspec.MsgspecError as exc:
            # Signed but not valid v1: a controller bug, still never acted on.
            raise MessageRejected(RejectReason.MALFORMED, describe(exc)) from None
        kind = message.kind
        if admin != (kind in ADMIN_ONLY_KINDS):
            signer = "the admin key" if admin else "the controller key"
            raise MessageRejected(RejectReason.NOT_ADMIN, f"a {kind} signed by {signer}", message.msg_id)
        if message.agent_id != self.agent_id:
            raise MessageRejected(RejectReason.WRONG_ADDRESS, f"addressed to {message.agent_id}", message.msg_id)
        if message.expires_at <= now:
            raise MessageRejected(RejectReason.EXPIRED, f"expired at {message.expires_at}", message.msg_id)
        if message.issued_at > now + self.max_clock_skew:
            raise MessageRejected(
                RejectReason.NOT_YET_VALID, f"issued in the future at {message.issued_at}", message.msg_id
            )
        return message


def _open_envelope(data: bytes) -> SignedEnvelope:
    """The envelope in `data`; an oversized, deeply nested or bare message is refused without a traceback."""
    if len(data) > MAX_SIGNED_BYTES:
        raise MessageRejected(RejectReason.MALFORMED, f"{len(data)} bytes, over {MAX_SIGNED_BYTES}")
    try:
        envelope: SignedEnvelope = _envelope_decoder.decode(data)
    except RecursionError:
        raise MessageRejected(RejectReason.MALFORMED, "nested too deeply") from None
    except msgspec.MsgspecError as exc:
        reason = RejectReason.UNSIGNED if _looks_unsigned(data) else RejectReason.MALFORMED
        raise MessageRejected(reason, describe(exc)) from None
    return envelope


def _looks_unsigned(data: bytes) -> bool:
    """True when the bytes are a bare message (a JSON object with a kind) rather than an envelope."""
    try:
        obj = json.loads(data)
    except (ValueError, RecursionError):
        return False
    return isinstance(obj, dict) and "kind" in obj and "sig" not in obj


# -- agent reports (v1.2) ---------------------------------------------------------------------------------------


class Report:
    """An agent's report as read off the wire: the message, and the envelope it came in (None: unsigned)."""

    __slots__ = ("envelope", "message")

    def __init__(self, message: AgentMessage, envelope: SignedEnvelope | None) -> None:
        self.message = message
        self.envelope = envelope

    def check_signature(self, topic: str, key: VerifyKey) -> None:
        """Raise MessageRejected unless the report is signed by `key` for `topic`."""
        envelope = self.envelope
        if envelope is None:
            raise MessageRejected(RejectReason.UNSIGNED, "a report with no signature", self.message.msg_id)
        if envelope.kid != key_id(key):
            raise MessageRejected(
                RejectReason.UNKNOWN_KEY, f"key id {envelope.kid} is not the agent's", self.message.msg_id
            )
        try:
            key.verify(_signed_bytes(topic, envelope.payload), base64.b64decode(envelope.sig, validate=True))
        except (binascii.Error, BadSignatureError, ValueError):
            raise MessageRejected(RejectReason.BAD_SIGNATURE, "signature does not match", self.message.msg_id) from None


def read_report(data: bytes) -> Report:
    """Parse an agent's report, signed (v1.2) or bare (older agents). Raises ProtocolError when malformed.

    Nothing is verified here: the caller knows the agent's key, and calls `Report.check_signature`.
    """
    if len(data) > MAX_SIGNED_BYTES:
        raise ProtocolError(f"invalid agent message: {len(data)} bytes, over {MAX_SIGNED_BYTES}")
    if not data.lstrip().startswith(b'{"v"'):  # our envelopes start so; anything else is read as a bare message
        return Report(decode_agent_message(data), None)
    try:
        envelope: SignedEnvelope = _envelope_decoder.decode(data)
    except RecursionError:
        raise ProtocolError("invalid agent message: nested too deeply") from None
    except msgspec.MsgspecError as exc:
        raise ProtocolError(f"invalid signed agent message: {describe(exc)}") from None
    return Report(decode_agent_message(envelope.payload.encode("utf-8")), envelope)
