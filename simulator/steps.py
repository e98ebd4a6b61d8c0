"""API steps that both the demo and a slot run take (kept apart so neither imports the other)."""

from __future__ import annotations

from typing import Any

import httpx


def submit_and_approve(api: httpx.Client, bulletin_id: str, override: str = "") -> dict[str, Any]:
    """Send a rendered bulletin for approval and approve it (the caller must be a leader or an admin).

    `override` is the reason recorded when the audio is outside the 3-5 minute window, as for short test audio.
    """
    ok(api.post(f"/api/bulletins/{bulletin_id}/submit", json={"duration_override": override}))
    return dict(ok(api.post(f"/api/bulletins/{bulletin_id}/approve", json={"comment": "Đồng ý phát."})))


def ok(response: httpx.Response) -> Any:
    if response.is_error:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()
