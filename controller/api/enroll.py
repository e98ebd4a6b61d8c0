"""POST /api/enroll: a new Pi redeems its one-time enrolment token for its MQTT login and trust anchors.

No login: the token is the credential. See controller/services/enrollment.py.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from controller.deps import ContextDep, ControllerDep
from controller.services import enrollment

router = APIRouter(prefix="/api", tags=["enrolment"])

_LOOPBACK = {"127.0.0.1", "localhost", "0.0.0.0", "::1", "::"}


class EnrollRequest(BaseModel):
    token: str = Field(min_length=10, max_length=2000)


class EnrollResponse(BaseModel):
    agent_id: str
    commune_code: str
    username: str
    password: str
    broker_url: str
    controller_public_key: str
    topic_root: str
    media_base_url: str
    registered: bool


def _reachable(broker_url: str, request: Request) -> str:
    """A loopback broker address means "this controller's host": say it as the Pi reached us."""
    parts = urlsplit(broker_url)
    host = request.url.hostname
    if parts.hostname in _LOOPBACK and host and host not in _LOOPBACK:
        return urlunsplit(parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host))
    return broker_url


@router.post("/enroll", status_code=201)
def enroll(data: EnrollRequest, request: Request, controller: ControllerDep, ctx: ContextDep) -> EnrollResponse:
    """Register the agent the token names and return its MQTT credentials, the broker URL and the controller key."""
    broker = controller.embedded_broker
    result = enrollment.enroll_agent(
        ctx,
        data.token,
        broker_url=_reachable(controller.broker_url, request),
        controller_public_key=controller.public_key,
        topic_root=controller.topics.root,
        credentials_for=broker.credentials if broker else None,
    )
    return EnrollResponse(**result.__dict__)
