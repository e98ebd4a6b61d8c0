"""Audio over HTTP: content-addressed, immutable, cacheable."""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

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
