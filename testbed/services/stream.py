"""TCP stream service of a site: answers every line ``SEQ`` with ``SITE SEQ``.

The client side is :mod:`testbed.probes.tcp` (protocol in docs/records.md).
One asyncio process serves any number of connections; it is idle between
messages.  SIGTERM or SIGINT closes the listening socket and every
connection in order (FIN), then the process exits 0.

As a process::

    python -m testbed.services.stream --site lon [--bind 192.0.2.53] [--port 8053]
    python -m testbed.services.stream --site backend --unix RUN/backend.sock

With ``--unix`` it listens on a unix socket instead (the run's shared
backend, which the health agents' ``backend`` check asks; a stale socket
file left by a killed backend is replaced).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from typing import List, Optional, Set

from testbed import proc
from testbed.probes import defaults

STREAM_PORT = defaults.STREAM_PORT
#: Longest line accepted; a client sending more is disconnected.
MAX_LINE = 256


def answer(site: str, line: bytes) -> Optional[bytes]:
    """The answer to one received line.

    Args:
        site: this site's name.
        line: one line as received, with or without its newline.

    Returns:
        ``b"SITE SEQ\\n"``, or None for an empty line (nothing to answer).
    """
    seq = line.strip()
    if not seq:
        return None
    return site.encode() + b" " + seq + b"\n"


class StreamServer:
    """Serves the stream protocol for one site on one address and port."""

    def __init__(self, site: str, bind: str, port: int, unix: Optional[str] = None):
        """Prepare the server.

        Args:
            site: the name sent in every answer.
            bind: the address to listen on.
            port: the TCP port.
            unix: listen on this unix socket instead of ``bind``/``port``.
        """
        self.site = site
        self.bind = bind
        self.port = port
        self.unix = unix
        self.connections = 0
        self._writers: Set[asyncio.StreamWriter] = set()
        self._server: Optional[asyncio.AbstractServer] = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        sock = writer.get_extra_info("socket")
        if sock is not None and sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                line = await reader.readuntil(b"\n")
                reply = answer(self.site, line)
                if reply:
                    writer.write(reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
            pass  # EOF, a line too long, or the client went away
        finally:
            self._writers.discard(writer)
            writer.close()

    async def run(self, stop: asyncio.Event) -> None:
        """Listen until ``stop`` is set, then close everything in order."""
        if self.unix is not None:
            self._server = await asyncio.start_unix_server(
                self._serve, self.unix, limit=MAX_LINE, backlog=128
            )
            where = self.unix
        else:
            self._server = await asyncio.start_server(
                self._serve, self.bind, self.port, limit=MAX_LINE, reuse_address=True, backlog=128
            )
            where = f"{self.bind}:{self.port}"
        sys.stderr.write(f"stream: site {self.site} listening on {where}\n")
        sys.stderr.flush()
        await stop.wait()
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog="python -m testbed.services.stream",
        description="TCP stream service: answers each line SEQ with 'SITE SEQ'.",
    )
    proc.add_listen_options(p, STREAM_PORT, "TCP port")
    p.add_argument("--unix", default=None, help="listen on this unix socket instead")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.services.stream``."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        asyncio.run(proc.serve(StreamServer(args.site, args.bind, args.port, args.unix).run))
    except OSError as exc:
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        where = args.unix or f"{args.bind}:{args.port}"
        proc.fail(parser.prog, f"cannot listen on {where}: {why}")


if __name__ == "__main__":
    main()
