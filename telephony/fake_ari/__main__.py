"""Run the fake Asterisk by hand, optionally with demo traffic:

    python -m telephony.fake_ari --port 8088 --user pbx --password secret --endpoints 1000-1005 --demo-queue 5000

Then point the product at it (ARI_HOST=127.0.0.1 ARI_PORT=8088 ARI_USER=pbx ARI_PASS=secret). Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import signal

from telephony.fake_ari.asterisk import FakeAsterisk
from telephony.fake_ari.demo import DemoTraffic
from telephony.fake_ari.phones import Phone


def endpoint_list(text: str) -> list[str]:
    """`1000-1005,2001` -> ['1000', ..., '1005', '2001'] (ranges keep the width of their first number)."""
    resources: list[str] = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        first, dash, last = part.partition("-")
        if not dash:
            resources.append(part)
            continue
        if not (first.isdigit() and last.isdigit()) or int(last) < int(first):
            raise argparse.ArgumentTypeError(f"not a range of extensions: {part!r}")
        if int(last) - int(first) > 10_000:
            raise argparse.ArgumentTypeError(f"range too large: {part!r}")
        resources += [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]
    return resources


def milliseconds_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        low_ms, high_ms = int(low), int(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN-MAX in milliseconds, got {text!r}") from None
    if low_ms < 0 or high_ms < low_ms:
        raise argparse.ArgumentTypeError(f"expected 0 <= MIN <= MAX, got {text!r}")
    return low_ms, high_ms


def seconds_range(text: str) -> tuple[float, float]:
    low, high = milliseconds_range(text)
    return float(low), float(high)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m telephony.fake_ari", description="A fake Asterisk 20 speaking ARI.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8088)
    p.add_argument("--user", default="pbx")
    p.add_argument("--password", default="secret")
    p.add_argument("--endpoints", type=endpoint_list, default=[], help="agent phones, e.g. 1000-1005,2001")
    p.add_argument("--answer-ms", type=milliseconds_range, default=(1500, 6000),
                   help="agents pick up this long after ringing starts (MIN-MAX ms)")  # fmt: skip
    p.add_argument("--demo-queue", action="append", default=[], metavar="NUMBER", help="queue number to call")
    p.add_argument("--demo-extension", action="append", default=[], metavar="NUMBER", help="extension to call")
    p.add_argument("--rate", type=float, default=6.0, help="average demo calls per minute")
    p.add_argument("--talk-s", type=seconds_range, default=(10.0, 60.0), help="talk time, MIN-MAX seconds")
    p.add_argument("--patience-s", type=seconds_range, default=(20.0, 90.0), help="how long callers wait")
    p.add_argument("--abandon", type=float, default=0.15, help="share of impatient callers (0..1)")
    p.add_argument("--seed", type=int, default=None)
    return p


async def serve(args: argparse.Namespace) -> None:
    fake = FakeAsterisk(user=args.user, password=args.password)
    rng = random.Random(args.seed)
    fake.random = rng
    for resource in args.endpoints:
        fake.add_endpoint(resource, Phone.answer_between(*args.answer_ms))
    port = await fake.start(host=args.host, port=args.port)
    log = logging.getLogger("telephony.fake_ari")
    log.info("fake Asterisk 20 on http://%s:%d/ari (user %s), endpoints: %s", args.host, port, args.user,
             ", ".join(args.endpoints) or "none")  # fmt: skip
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    tasks = []
    numbers = args.demo_queue + args.demo_extension
    if numbers:
        traffic = DemoTraffic(
            fake, numbers, calls_per_minute=args.rate, talk_s=args.talk_s, patience_s=args.patience_s,
            impatient_share=args.abandon, seed=args.seed,
        )  # fmt: skip
        tasks.append(asyncio.create_task(traffic.run()))

        async def report():
            while True:
                await asyncio.sleep(15)
                log.info("demo: %s", traffic.stats.line())

        tasks.append(asyncio.create_task(report()))
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await fake.stop()


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if not 0 <= args.abandon <= 1:
        parser().error("--abandon must be between 0 and 1")
    if args.rate <= 0:
        parser().error("--rate must be positive")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
