"""A port-forward of the emulated backend over the API server's WebSocket port-forward protocol, in-process.

:class:`.upstream.KubectlForward` makes each forward a ``kubectl port-forward`` process, client-go's code
itself, but about 50 MB of memory apiece: a thousand forwards do not fit on a laptop. This forwarder does
what client-go's ``portforward`` package does at about 100 kB a forward, in the emulator's own loop:

- on start it dials ``pods/{pod}/portforward`` on the API server once (the kubelet's ``v4.channel.k8s.io``
  WebSocket protocol: per port a data channel 0 and an error channel 1, each opened with the port number)
  and keeps that connection open, as client-go keeps its SPDY connection; a refusal (403, 404, a pod
  that is gone) fails the start, and the connection closing later ends the forward ("lost connection
  to pod", client-go's words);
- it listens on localhost (127.0.0.1 and [::1], :mod:`.localhost`) on ``port`` (or a free one); each
  accepted connection gets a stream of its own
  (a new WebSocket: the v4 protocol carries one stream per port and connection), copied both ways.

Behind kwok, the kubelet dials the pod's port as soon as a stream opens, so the first connection also
holds one connection to kwok's target (SPDY would open it only for the first client connection).
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import struct
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import quote

import aiohttp

from . import localhost

PROTOCOL = "v4.channel.k8s.io"
DATA, ERROR = 0, 1
CHUNK = 64 * 1024


@dataclasses.dataclass(kw_only=True)
class WebsocketForward:
    """One forward: its local listener, the connection it holds to the pod, and the streams of its clients."""

    port: int
    listener: localhost.Listeners | None = None
    control: asyncio.Task[None] | None = None  # reads the held connection; done once the pod end closes it
    streams: set[asyncio.Task[None]] = dataclasses.field(default_factory=set)
    problem: str = ""  # what the kubelet said on the error channel, if anything

    def close(self) -> None:
        """Close the listener, the held connection and every client stream."""
        if self.listener is not None:
            self.listener.close()
        for task in (self.control, *self.streams):
            if task is not None:
                task.cancel()

    @property
    def running(self) -> bool:
        """Whether the held connection to the pod is still open."""
        return self.control is not None and not self.control.done()

    def error(self) -> str:
        """Why the forward ended, in client-go's words unless the kubelet gave its own."""
        return self.problem or "lost connection to pod"


Dial = Callable[[], Awaitable[aiohttp.ClientWebSocketResponse]]


def dialer(session: aiohttp.ClientSession, server: str, *, namespace: str, pod: str, port: int,
           headers: Mapping[str, str]) -> Dial:
    """A function opening one stream to the pod's port: the WebSocket, once the kubelet named the port on
    both channels. Raises ``RuntimeError`` with the API server's refusal, as client-go reports its dial."""
    url = f"{server}/api/v1/namespaces/{quote(namespace)}/pods/{quote(pod)}/portforward?ports={port}"

    async def dial() -> aiohttp.ClientWebSocketResponse:
        try:
            ws = await session.ws_connect(url, protocols=(PROTOCOL,), headers=dict(headers), max_msg_size=0)
        except aiohttp.WSServerHandshakeError as exc:
            raise RuntimeError(f"error upgrading connection: {exc.message or exc.status}") from None
        except aiohttp.ClientError as exc:
            raise RuntimeError(f"error upgrading connection: {exc}") from None
        try:
            for channel in (DATA, ERROR):
                message = await ws.receive()
                if message.type != aiohttp.WSMsgType.BINARY or message.data[:1] != bytes([channel]) \
                        or len(message.data) != 3 or struct.unpack("<H", message.data[1:])[0] != port:
                    raise RuntimeError(f"unexpected first message on channel {channel}: {message.type!r}")
        except BaseException:
            await ws.close()
            raise
        return ws

    return dial


async def start(dial: Dial, *, port: str, target: int) -> WebsocketForward:
    """Dial the pod once (held), then listen locally; raises ``RuntimeError`` with the reason it cannot
    (client-go's words: ``unable to listen on any of the requested ports: [{port target}]``)."""
    held = await dial()
    forward = WebsocketForward(port=0)
    forward.control = asyncio.ensure_future(_hold(held, forward))

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        forward.streams.add(task)
        try:
            await _carry(dial, reader, writer)
        finally:
            forward.streams.discard(task)

    try:
        forward.listener = await localhost.listen(accept, int(port) if port else 0)
    except (OSError, ValueError):
        forward.close()
        raise RuntimeError(localhost.listen_error(port, target)) from None
    except BaseException:  # cancelled, or timed out: the held connection goes too
        forward.close()
        raise
    forward.port = forward.listener.port
    return forward


async def _hold(ws: aiohttp.ClientWebSocketResponse, forward: WebsocketForward) -> None:
    """Keep the start's connection open until the pod end closes it (or the forward is closed)."""
    try:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.BINARY and message.data[:1] == bytes([ERROR]) and message.data[1:]:
                forward.problem = message.data[1:].decode(errors="replace")
    finally:
        await ws.close()


async def _carry(dial: Dial, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One client connection: its own stream to the pod, bytes copied both ways until either side ends."""
    try:
        ws = await dial()
    except RuntimeError:
        writer.close()
        return

    async def outbound() -> None:
        while data := await reader.read(CHUNK):
            await ws.send_bytes(bytes([DATA]) + data)

    async def inbound() -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.BINARY:
                continue
            if message.data[:1] == bytes([DATA]):
                writer.write(message.data[1:])
                await writer.drain()
            elif message.data[:1] == bytes([ERROR]) and message.data[1:]:
                return  # the kubelet could not reach the pod's port: the client sees the connection close

    tasks = [asyncio.ensure_future(outbound()), asyncio.ensure_future(inbound())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await ws.close()
        writer.close()
        with contextlib.suppress(OSError, ConnectionError):
            await writer.wait_closed()
