"""One endpoint's connection pool: idle connections reused, found in O(1) however many.

A batch streams 64 answers at once and then 64 more; each stream should reuse a connection
an earlier one left, not open its own (a TCP, and for https a TLS, handshake per stream).
httpx's own pool (httpcore) does reuse them, but every request and every response's end
scans all its connections, and for each idle one polls its socket: with 64 connections
kept, bench.batch ran 2-3x slower than opening a connection per stream (the upstream
issue: encode/httpx#3215, encode/httpcore#924).

`Lanes` is an httpx transport made of lanes, each an httpx transport that holds one
connection: a request takes an idle lane (or a new one), and its response's close hands
the lane back, its connection still open if the response was read to its end. Each lane's
own pool only ever sees its one connection, so nothing is scanned. A cancelled stream
closes its response, and with it that lane's connection, never the others.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import httpx

__all__ = ["Lanes"]


class Lanes(httpx.AsyncBaseTransport):
    """Connections to one endpoint, reused: up to `keep` idle ones stay open (the streams
    that may be in flight at once); there is no cap on busy ones, the stream slots
    (`runs.StreamLimits`) are the limit."""

    def __init__(self, *, verify: ssl.SSLContext, keep: int) -> None:
        self.ssl_context = verify  # every lane's: one CA load per process, not per lane
        self._keep = max(0, keep)
        self._idle: list[httpx.AsyncHTTPTransport] = []
        self._busy: set[httpx.AsyncHTTPTransport] = set()
        self._closed = False

    def _lane(self) -> httpx.AsyncHTTPTransport:
        if self._idle:
            return self._idle.pop()  # the most recently used: likeliest still open
        return httpx.AsyncHTTPTransport(
            verify=self.ssl_context,
            trust_env=False,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=1),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        lane = self._lane()
        self._busy.add(lane)
        try:
            response = await lane.handle_async_request(request)
        except BaseException:
            self._park(lane)  # its pool already dropped the failed connection
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_Returned(response.stream, self, lane),
            extensions=response.extensions,
        )

    def _park(self, lane: httpx.AsyncHTTPTransport) -> None:
        """Back to the idle list (no await: also on a cancelled request's way out)."""
        self._busy.discard(lane)
        if not self._closed:
            self._idle.append(lane)

    async def _trim(self) -> None:
        """Close the longest-idle lanes beyond `keep`."""
        while len(self._idle) > self._keep:
            await self._idle.pop(0).aclose()

    async def aclose(self) -> None:
        """Close every connection, idle or busy (once, at the end of the session)."""
        self._closed = True
        lanes = [*self._idle, *self._busy]
        self._idle.clear()
        self._busy.clear()
        for lane in lanes:
            await lane.aclose()


class _Returned(httpx.AsyncByteStream):
    """A response body that hands its lane back when closed."""

    def __init__(
        self, stream: httpx.AsyncByteStream, lanes: Lanes, lane: httpx.AsyncHTTPTransport
    ) -> None:
        self._stream = stream
        self._lanes = lanes
        self._lane: httpx.AsyncHTTPTransport | None = lane

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()  # the body's own iterator: no extra step per read

    async def aclose(self) -> None:
        lane, self._lane = self._lane, None
        try:
            await self._stream.aclose()  # read to its end: the connection stays open
        finally:
            if lane is not None:
                self._lanes._park(lane)
        await self._lanes._trim()
