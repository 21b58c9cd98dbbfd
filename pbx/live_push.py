"""Sends live-console messages to Channels groups, from any thread.

From a web request (Django's sync views) the send waits for the channel layer, as usual. The telephony engine's
database threads are bound to the server's event loop instead: their messages are handed to that loop and the thread
goes on, so a burst of state changes never holds a database thread waiting for the loop.

A records batch of the engine commits the changes of dozens of calls and agents at once, and the same call often
changes several times in one batch (rung, answered, ended). Messages only say what changed (consoles re-render from
the database), so the loop sends each distinct message of a burst once, in one task, and a thread wakes the loop once
per burst, not once per message. A database job of the engine (a records batch) is one burst (`one_burst`): what it
sends goes to the loop together when the job ends, never split by the loop draining half of it.
"""

import asyncio
import logging
import threading
import uuid
import weakref
from collections import deque
from contextlib import contextmanager

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


class _Burst:
    """Messages handed from database threads to the event loop, sent by the loop together, each distinct one once."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.messages: deque = deque()  # appended by threads, drained by the loop (deque's append/popleft are atomic)
        self.lock = threading.Lock()
        self.scheduled = False

    def add(self, items: list[tuple]) -> None:
        """(layer, groups, message) items, sent in this order, each distinct one once with the rest of the burst."""
        self.messages.extend(items)
        with self.lock:
            if self.scheduled:
                return
            self.scheduled = True
        self.loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self.lock:
            self.scheduled = False
        distinct: dict = {}
        while self.messages:
            layer, groups, message = self.messages.popleft()
            distinct.setdefault((tuple(groups), repr(sorted(message.items()))), (layer, groups, message))
        if distinct:
            _spawn(self.loop, _send_all(list(distinct.values())))


async def _send_all(messages: list) -> None:
    for layer, groups, message in messages:
        await _send(layer, groups, {**message, "event_id": uuid.uuid4().hex})


_bursts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop -> its _Burst
_bursts_lock = threading.Lock()


def _burst_of(loop: asyncio.AbstractEventLoop) -> _Burst:
    with _bursts_lock:
        burst = _bursts.get(loop)
        if burst is None:
            burst = _bursts[loop] = _Burst(loop)
        return burst


def send_to_groups(groups: list[str], message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    loop = getattr(_thread, "loop", None)
    if loop is not None and loop.is_running():
        collected = getattr(_thread, "collected", None)
        if collected is not None:
            collected.append((layer, groups, message))
        else:
            _burst_of(loop).add([(layer, groups, message)])
        return
    # One id per change, the same in every group's copy: consumers of one process render a shared fragment once.
    message = {**message, "event_id": uuid.uuid4().hex}
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is not None:
        # Sync code called straight from a coroutine (a script, a test): waiting here would block that very loop.
        _spawn(running, _send(layer, groups, message))
        return
    async_to_sync(_send)(layer, groups, message)


@contextmanager
def one_burst():
    """What this thread sends inside goes to its bound loop together when the block ends, as one burst (for a
    database job of the engine). Sent even if the block fails: what it sent was committed. Nested blocks are one."""
    if getattr(_thread, "loop", None) is None or getattr(_thread, "collected", None) is not None:
        yield
        return
    _thread.collected = []
    try:
        yield
    finally:
        collected, _thread.collected = _thread.collected, None
        if collected and _thread.loop.is_running():
            _burst_of(_thread.loop).add(collected)


_sending: set[asyncio.Task] = set()  # held until done: the loop keeps only weak references to tasks


def _spawn(loop: asyncio.AbstractEventLoop, coroutine) -> None:
    task = loop.create_task(coroutine)
    _sending.add(task)
    task.add_done_callback(_sending.discard)
