"""Where a forward listens: ``localhost``, as client-go's port-forwarder does for headlamp-server.

headlamp-server v0.45.0 never passes an address to client-go (``portforward.New``), whose default is
``localhost``: one listener on 127.0.0.1 and one on [::1], on the same port. client-go is content with
either one (a failure on one address is logged, not returned); only when no address could listen does
``ForwardPorts`` fail, with ``unable to listen on any of the requested ports: [{LOCAL REMOTE}]``.
So a port another process holds on 127.0.0.1 alone still "starts", and is served on [::1] alone (seen on
the real server, docs/headlamp-backend.md#routes). A machine without an IPv6 loopback simply gets the IPv4 one.
"""
from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

LOOPBACKS = ("127.0.0.1", "::1")
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None] | None]


class Listeners:
    """The listeners of one forward: one per loopback address that took the port."""

    def __init__(self, servers: list[asyncio.Server], port: int) -> None:
        self.servers = servers
        self.port = port

    @property
    def hosts(self) -> list[str]:
        """The addresses listened on (``127.0.0.1``, ``::1``, or both)."""
        return [str(server.sockets[0].getsockname()[0]) for server in self.servers if server.sockets]

    def close(self) -> None:
        """Stop listening on every address."""
        for server in self.servers:
            server.close()


def free_port() -> int:
    """A port free on 127.0.0.1, picked as the backend's ``getFreePort`` does (``localhost:0``, closed again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listen_error(port: str | int, target: str | int) -> str:
    """client-go's error when no address could listen (Go's ``%v`` of its ``[]ForwardedPort``)."""
    return f"unable to listen on any of the requested ports: [{{{port} {target}}}]"


async def listen(handler: Handler, port: int) -> Listeners:
    """Listen on ``port`` (0: a free one) of every loopback address that takes it.

    Raises:
        OSError: no address could listen.
    """
    servers: list[asyncio.Server] = []
    for host in LOOPBACKS:
        try:
            server = await asyncio.start_server(handler, host, port)
        except OSError:  # held by another process, or no such loopback on this machine
            continue
        servers.append(server)
        port = port or int(server.sockets[0].getsockname()[1])  # the second address takes the first one's port
    if not servers:
        raise OSError(f"no loopback address could listen on port {port}")
    return Listeners(servers, port)
