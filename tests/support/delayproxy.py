"""A TCP forward that holds traffic for a fixed time: a database N ms away, or a pooler
that takes N ms over every statement.

    python tests/support/delayproxy.py LISTEN_PORT TARGET_PORT ONE_WAY_MS
    python tests/support/delayproxy.py LISTEN_PORT TARGET_PORT MS --per-message Q

Linux's netem would do this in the kernel, but it needs the sch_netem module, which
sandboxes and CI machines often lack.

Default mode: every chunk waits ONE_WAY_MS each way. Order is kept per direction; the
round trip is twice ONE_WAY_MS, and a new connection first waits one round trip (the TCP
handshake). Used by bench/ (probes and fleets against a remote-like server).

--per-message TYPES: the client-to-server stream is read as PostgreSQL protocol messages
(https://www.postgresql.org/docs/current/protocol-message-formats.html: untyped startup
packets, then a type byte and a length) and each message whose type is in TYPES (e.g. Q,
a simple query: one statement round) is held MS before it is passed on, after the ones
before it. Nothing else is delayed: logins and cancel requests go straight through, as
they would to a pooler that is slow only at answering statements.
"""

from __future__ import annotations

import asyncio
import struct
import sys

SSL_REQUEST, GSS_REQUEST = 80877103, 80877104


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


async def pg_messages(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float, types: bytes
) -> None:
    """Client to server, message by message; messages of `types` wait `delay` first."""
    try:
        while True:  # startup phase: SSL/GSS requests are answered, then the startup packet
            head = await reader.readexactly(8)
            length, code = struct.unpack("!ii", head)
            writer.write(head + await reader.readexactly(length - 8))
            await writer.drain()
            if code not in (SSL_REQUEST, GSS_REQUEST):
                break
        while True:
            head = await reader.readexactly(5)
            body = await reader.readexactly(struct.unpack("!i", head[1:])[0] - 4)
            if head[:1] in types:
                await asyncio.sleep(delay)
            writer.write(head + body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, OSError):
        pass
    writer.close()


async def main(listen: int, target: int, delay: float, per_message: bytes | None = None) -> None:
    async def handle(client_r, client_w):
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_w.close()
            return
        if per_message is not None:
            await asyncio.gather(
                pg_messages(client_r, server_w, delay, per_message), pipe(server_r, client_w, 0)
            )
            return
        # The TCP handshake's round trip: nothing crosses before it would have completed.
        await asyncio.sleep(2 * delay)
        await asyncio.gather(pipe(client_r, server_w, delay), pipe(server_r, client_w, delay))

    server = await asyncio.start_server(handle, "127.0.0.1", listen, backlog=512)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    args = sys.argv[1:]
    types = None
    if "--per-message" in args:
        i = args.index("--per-message")
        types = args[i + 1].encode()
        del args[i : i + 2]
    asyncio.run(main(int(args[0]), int(args[1]), float(args[2]) / 1000, types))
