"""What agents fetch over HTTP with no login: audio (content-addressed, immutable, cacheable) and, since protocol
v1.2, their current signed manifest, a second channel beside the broker's retained copy."""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response

from controller.deps import ControllerDep

router = APIRouter(tags=["media"])
_SHA = re.compile(r"^[0-9a-f]{64}$")


@router.get("/media/{sha256}.mp3", response_class=FileResponse)
async def get_media(sha256: str, controller: ControllerDep) -> FileResponse:
    # On the event loop, not the thread pool: a province's agents fetch the same file at once, and a
    # stat() costs less than the hop to a worker thread. FileResponse reads the file in threads itself.
    if not _SHA.fullmatch(sha256) or not controller.store.exists(sha256):
        raise HTTPException(status_code=404, detail="Không tìm thấy tệp âm thanh.")
    return FileResponse(
        controller.store.path_for(sha256),
        media_type="audio/mpeg",
        headers={"Cache-Control": "public, max-age=31536000, immutable", "ETag": f'"{sha256}"'},
    )


@router.get("/manifests/{agent_id}.json")
async def get_manifest(agent_id: str, controller: ControllerDep) -> Response:
    """The agent's latest signed manifest, exactly as published on its topic (the signature covers the topic).

    Served without a login like the audio it points to: it is signed, and only says what will play where.
    """
    payload = controller.latest_manifest(agent_id)
    if payload is None:
        raise HTTPException(status_code=404, detail="Chưa có lịch phát cho cụm loa này.")
    return Response(payload, media_type="application/json", headers={"Cache-Control": "no-store"})
