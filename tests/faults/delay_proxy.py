#!/usr/bin/env python3
"""A TCP proxy that delays every byte by a fixed time in each direction (stdlib only).

The kernel here has no netem, so the fault suite adds latency with this: each chunk read from
one side is written to the other side `--delay-ms` later, in order. Half-closes are passed on
(after the data before them), and a reset on either side closes both. One upstream connection
per accepted connection.

  delay_proxy.py --listen 127.0.0.1:7001 --upstream 10.231.0.1:7000 --delay-ms 200

Prints "listening HOST:PORT" once it accepts connections; runs until killed.
"""

import argparse
import asyncio
import signal
import sys


def addr(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


async def pump(reader, writer, delay, loop):
    """Copies reader to writer, each chunk `delay` seconds after it was read."""
    queue = asyncio.Queue()

    async def read_side():
        while True:
            try:
                data = await reader.read(65536)
            except (ConnectionError, OSError):
                data = None  # reset: tell the writer to abort
            await queue.put((loop.time() + delay, data))
            if not data:
                return

    async def write_side():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                raise ConnectionResetError("peer reset")
            if data == b"":
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    r = asyncio.ensure_future(read_side())
    try:
        await write_side()
    finally:
        r.cancel()


async def handle(client_r, client_w, upstream, delay):
    loop = asyncio.get_running_loop()
    try:
        up_r, up_w = await asyncio.wait_for(asyncio.open_connection(*upstream), timeout=10)
    except (OSError, asyncio.TimeoutError):
        client_w.close()
        return
    tasks = [
        asyncio.ensure_future(pump(client_r, up_w, delay, loop)),
        asyncio.ensure_future(pump(up_r, client_w, delay, loop)),
    ]
    try:
        # Both directions end normally on EOF; an error in either tears the pair down.
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if any(t.exception() for t in done if not t.cancelled()):
                break
    finally:
        for t in tasks:
            t.cancel()
        for w in (client_w, up_w):
            try:
                w.transport.abort()
            except Exception:
                pass


async def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen", required=True, type=addr)
    p.add_argument("--upstream", required=True, type=addr)
    p.add_argument("--delay-ms", type=float, default=200)
    a = p.parse_args()
    delay = a.delay_ms / 1000.0
    server = await asyncio.start_server(lambda r, w: handle(r, w, a.upstream, delay), *a.listen)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening {host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
