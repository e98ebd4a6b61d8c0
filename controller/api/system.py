"""Health and the controller's public signing key."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from controller.deps import ControllerDep

router = APIRouter(prefix="/api/system", tags=["system"])


class SystemInfo(BaseModel):
    broker_connected: bool
    topic_root: str
    public_key: str
    key_id: str


@router.get("")
def system_info(controller: ControllerDep) -> SystemInfo:
    """What an agent needs to trust us: the Ed25519 public key (base64) and topic root."""
    return SystemInfo(
        broker_connected=controller.bus.connected,
        topic_root=controller.topics.root,
        public_key=controller.public_key,
        key_id=controller.signer.kid,
    )
