"""Running the HTTP app in a background thread, for `loa demo` and whole-system tests."""

from __future__ import annotations

import threading
import time

import uvicorn
from fastapi import FastAPI

from controller.errors import ControllerError

IDLE_CONNECTION_S = 75


class ServerThread:
    """uvicorn in a daemon thread. `start()` returns once the app's lifespan has started."""

    def __init__(self, app: FastAPI, host: str, port: int, log_level: str = "warning") -> None:
        self.app = app
        # The server keeps idle connections longer than clients do (httpx drops them after 5 s, uvicorn's
        # default is also 5 s): with equal timeouts a client can reuse a connection the server is closing
        # that very moment, and the request dies with "connection reset by peer".
        config = uvicorn.Config(
            app, host=host, port=port, log_level=log_level, lifespan="on", timeout_keep_alive=IDLE_CONNECTION_S
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, name="http", daemon=True)

    def start(self, timeout: float = 60.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ControllerError("the controller failed to start", "Không khởi động được máy chủ điều khiển.")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(60)
