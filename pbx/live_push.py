"""Sends live-console messages to Channels groups, from any thread.

From a web request (Django's sync views) the send waits for the channel layer, as usual. The telephony engine's
database threads are bound to the server's event loop instead: their messages are handed to that loop and the thread
goes on, so a burst of state changes never holds a database thread waiting for the loop.
"""

import asyncio
import logging
import threading
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

_thread = threading.local()


def bind_event_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Messages sent from this thread are handed to `loop` (for worker threads of an async server)."""
    _thread.loop = loop


async def _send(layer, groups: list[str], message: dict) -> None:
    try:
        for group in groups:
            await layer.group_send(group, message)
    except Exception:
        # A lost push is repaired by the console's next re-render; the change itself is committed.
        logger.exception("live push of %s to %s failed", message.get("type"), groups)


def send_to_groups(groups: list[str], message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    # One id per change, the same in every group's copy: consumers of one process render a shared fragment once.
    message = {**message, "event_id": uuid.uuid4().hex}
    loop = getattr(_thread, "loop", None)
    if loop is not None and loop.is_running():
        loop.call_soon_threadsafe(lambda: _spawn(loop, _send(layer, groups, message)))
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is not None:
        # Sync code called straight from a coroutine (a script, a test): waiting here would block that very loop.
        _spawn(running, _send(layer, groups, message))
        return
    async_to_sync(_send)(layer, groups, message)


_sending: set[asyncio.Task] = set()  # held until done: the loop keeps only weak references to tasks


def _spawn(loop: asyncio.AbstractEventLoop, coroutine) -> None:
    task = loop.create_task(coroutine)
    _sending.add(task)
    task.add_done_callback(_sending.discard)
