"""A TCP forward that holds every chunk for a fixed time each way: a database N ms away.

    python tests/delayproxy.py LISTEN_PORT TARGET_PORT ONE_WAY_MS

Linux's netem would do this in the kernel, but it needs the sch_netem module, which
sandboxes and CI machines often lack. Order is kept per direction; the round trip is
twice ONE_WAY_MS, and a new connection first waits one round trip (the TCP handshake). Used by bench/ (probes and fleets against a remote-like server).
"""

from __future__ import annotations

import asyncio
import sys


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.ensure_future(deliver())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((loop.time() + delay, data))
    except (ConnectionError, OSError):
        pass
    queue.put_nowait((loop.time() + delay, b""))  # the close travels as late as the data
    try:
        await sender
    except (ConnectionError, OSError):
        pass


async def main(listen: int, target: int, delay: float) -> None:
    async def handle(client_r, client_w):
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_w.close()
            return
        # The TCP handshake's round trip: nothing crosses before it would have completed.
        await asyncio.sleep(2 * delay)
        await asyncio.gather(pipe(client_r, server_w, delay), pipe(server_r, client_w, delay))

    server = await asyncio.start_server(handle, "127.0.0.1", listen, backlog=512)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000))
