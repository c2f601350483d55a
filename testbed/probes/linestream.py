"""The line protocol of the long-lived probes: ``SEQ\\n`` on a schedule, ``SITE SEQ\\n`` back.

The stream service (:mod:`testbed.services.stream`) and the QUIC service
answer each line ``SEQ`` with ``SITE SEQ``.  :class:`Lines` is what a
connection keeps of that protocol whatever carries it: when the next request
is due (on an absolute schedule that skips ahead after a stall instead of
sending a burst) and the answer line read so far.  :class:`LineStream` adds
the non-blocking TCP socket the ``tcp-stream``, ``tcp-retry`` and ``hybrid``
probes and the ``resolve`` probe's streams use.  Neither writes records: the
probe gives them the time and its tracker's sequence numbers, and acts on the
answers and breaks they return (:class:`testbed.probes.streamloop.StreamLoop`,
the loop those probes share).
"""

from __future__ import annotations

import errno
import socket
from typing import Any, Callable, List, Optional, Tuple

#: Behind the send schedule by more than this (the process was stopped): skip ahead.
MAX_LAG = 1.0
#: Longest answer line accepted; a longer one is dropped.
MAX_LINE = 256

#: An answer: the site that sent it and the sequence number it answers.
Answer = Tuple[str, int]
#: How a connection broke: the event (``reset``, ``timeout``, ``eof``) and the error.
Break = Tuple[str, str]


def errno_name(number: Optional[int]) -> str:
    """The symbolic name of an errno value (``ECONNRESET``), or ``errno N``."""
    if number is None:
        return "unknown error"
    return errno.errorcode.get(number, f"errno {number}")


def broken(exc: OSError) -> Break:
    """The break an error on an established connection means.

    ETIMEDOUT (the kernel gave up retransmitting) is a ``timeout``; ECONNRESET,
    EPIPE and anything else rare, by its errno name, a ``reset``.
    """
    if exc.errno == errno.ETIMEDOUT:
        return "timeout", "ETIMEDOUT"
    return "reset", errno_name(exc.errno)


def parse_answer(line: bytes) -> Optional[Answer]:
    """Parse one answer line ``SITE SEQ``.

    Args:
        line: the line, with or without its newline.

    Returns:
        ``(site, seq)``, or None if the line is not an answer.
    """
    parts = line.split()
    if len(parts) != 2 or not parts[1].isdigit():
        return None
    try:
        site = parts[0].decode("ascii")
    except UnicodeDecodeError:
        return None
    return site, int(parts[1])


class Lines:
    """One connection's send schedule and partial answer line.

    Args:
        interval: seconds between two requests.
    """

    def __init__(self, interval: float):
        self.interval = interval
        self.next_send = 0.0  # monotonic
        self.inbuf = b""

    def due(self, mono: float, next_seq: Callable[[], int]) -> bytes:
        """The request lines due by ``mono`` (monotonic), one ``next_seq()`` each.

        Behind the schedule by more than :data:`MAX_LAG`, it skips ahead:
        one request now instead of a burst.
        """
        if mono - self.next_send > MAX_LAG:
            self.next_send = mono
        out = b""
        while self.next_send <= mono:
            out += b"%d\n" % next_seq()
            self.next_send += self.interval
        return out

    def answers(self, data: bytes) -> List[Optional[Answer]]:
        """The complete lines in what came so far, parsed (None: a line that is not an answer).

        The unfinished line waits for the rest; one longer than
        :data:`MAX_LINE` is dropped.
        """
        self.inbuf += data
        *lines, self.inbuf = self.inbuf.split(b"\n")
        if len(self.inbuf) > MAX_LINE:
            self.inbuf = b""
        return [parse_answer(line) for line in lines]


class LineStream(Lines):
    """:class:`Lines` over a non-blocking TCP connection (TCP_NODELAY).

    Errors on the established connection come back as a :data:`Break`
    (:func:`broken`, or ``("eof", "EOF")`` when the server closes it).
    """

    def __init__(self, interval: float):
        super().__init__(interval)
        self.sock: Optional[socket.socket] = None
        self.outbuf = b""

    def connect(self, address: Tuple[str, int]) -> Optional[int]:
        """Open a socket and start the handshake to ``address``.

        Returns:
            0: connected already; None: under way (the socket turns writable
            when it ends, then see :meth:`connect_error`); else the errno
            that failed it.
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        code = sock.connect_ex(address)
        return None if code in (errno.EINPROGRESS, errno.EAGAIN) else code

    def connect_error(self) -> int:
        """The handshake's errno once the socket is writable (0: connected)."""
        assert self.sock is not None
        return self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)

    def close(self) -> None:
        """Close the socket (if any) and forget what was read and not sent."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.inbuf = self.outbuf = b""

    def wait_on(self, connecting: bool, readers: List[Any], writers: List[Any]) -> None:
        """Add the socket to ``select``'s lists: writable while ``connecting`` (the
        handshake's end), else readable, and writable while lines wait to leave."""
        if connecting:
            writers.append(self.sock)
            return
        readers.append(self.sock)
        if self.outbuf:
            writers.append(self.sock)

    def send_due(self, mono: float, next_seq: Callable[[], int]) -> Optional[Break]:
        """Queue the requests due by ``mono`` (:meth:`Lines.due`) and :meth:`flush`."""
        self.outbuf += self.due(mono, next_seq)
        return self.flush()

    def flush(self) -> Optional[Break]:
        """Send what the socket takes (the rest when it is writable); the break, if any."""
        assert self.sock is not None
        try:
            sent = self.sock.send(self.outbuf, socket.MSG_NOSIGNAL)
        except (BlockingIOError, InterruptedError):
            return None  # buffer full: the rest leaves when writable (or times out)
        except OSError as exc:
            return broken(exc)
        self.outbuf = self.outbuf[sent:]
        return None

    def receive(self) -> Tuple[List[Optional[Answer]], Optional[Break]]:
        """Read what the socket has: the answers it completes, or the break (EOF, error)."""
        assert self.sock is not None
        try:
            data = self.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return [], None
        except OSError as exc:
            return [], broken(exc)
        if not data:
            return [], ("eof", "EOF")
        return self.answers(data), None
