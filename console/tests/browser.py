"""A real daphne server for the console's browser tests, in this process, so the in-memory channel layer is shared.

Steps of a simulated call run on the server's own event loop (through `on_server`), which is where a real telephony
task publishes from; the browser then sees exactly what the telephony core would make it see.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ConsoleServer:
    url: str
    loop: asyncio.AbstractEventLoop

    def on_server(self, step, timeout: float = 15.0):
        """Run a sync step (a simulated call's ring, say) in a worker of the server's loop and return its result."""
        future = asyncio.run_coroutine_threadsafe(database_sync_to_async(step)(), self.loop)
        return future.result(timeout)


def start_console_server() -> tuple[ConsoleServer, callable]:
    from daphne.server import Server
    from twisted.internet import reactor

    from pbx.asgi import application

    port = free_port()
    app = type(application)(
        {
            "http": ASGIStaticFilesHandler(application.application_mapping["http"]),
            "websocket": application.application_mapping["websocket"],
        }
    )
    ready = threading.Event()
    server = Server(
        app,
        endpoints=[f"tcp:port={port}:interface=127.0.0.1"],
        signal_handlers=False,
        ready_callable=ready.set,
        verbosity=0,
    )
    thread = threading.Thread(target=server.run, name="console-daphne", daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("daphne did not start")
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("daphne did not listen within 30 s") from None
            time.sleep(0.05)

    def stop():
        reactor.callFromThread(reactor.stop)
        thread.join(10)

    return ConsoleServer(url=f"http://127.0.0.1:{port}", loop=reactor._asyncioEventloop), stop
