"""The socket loop the long-lived stream probes share: connect, send, receive, deadlines.

The ``tcp-stream`` (:mod:`testbed.probes.tcp`), ``tcp-retry``
(:mod:`testbed.probes.retry`) and ``hybrid`` (:mod:`testbed.probes.hybrid`)
probes and the ``resolve`` probe's streams (:mod:`testbed.probes.resolve`)
each keep line streams (:class:`~testbed.probes.linestream.LineStream`)
whose life a pure tracker of the kind's own bookkeeps.  :class:`StreamLoop`
is the I/O they share: a stream's handshake, its lines sent on schedule and
its answers read, its break, the deadlines (start, lookup, handshake, answer)
acted on, its socket put into one ``select`` and the loop around it.  A
kind says what its tracker's phases are, what starts a waiting stream (a
connection, or first a lookup or a redirect) and what else it does; the
records are its tracker's.

A tracker has ``phase``, ``started`` (monotonic start of the lookup or
handshake under way), ``counts``, and ``established(now)``, ``sent(now)``
(a sequence number), ``answered(site, seq, now)``, ``connect_failed(error,
now)``, ``lost(event, error, now)`` (a record or a list of them),
``expire(now)``, ``answer_deadline()`` and ``close(now)``.
"""

from __future__ import annotations

import enum
import select
import time
from typing import (
    Any,
    ClassVar,
    Dict,
    Generic,
    Iterable,
    List,
    NamedTuple,
    Optional,
    Tuple,
    TypeVar,
    Union,
)

from testbed import proc
from testbed.probes.linestream import LineStream, errno_name
from testbed.records import RecordWriter

Record = Dict[str, Any]


class Now(NamedTuple):
    """One instant on both clocks: ``t`` goes into records, ``mono`` measures time."""

    t: float  # time.time()
    mono: float  # time.monotonic()

    @classmethod
    def read(cls) -> Now:
        """The current instant."""
        return cls(time.time(), time.monotonic())


def total_counts(counts: Iterable[Dict[str, int]]) -> Dict[str, int]:
    """Trackers' counts summed key by key (a probe's totals)."""
    total: Dict[str, int] = {}
    for one in counts:
        for key, value in one.items():
            total[key] = total.get(key, 0) + value
    return total


def listed(records: Union[Record, List[Record]]) -> List[Record]:
    """A tracker's answer as a list: one record, or the list it gave."""
    return records if isinstance(records, list) else [records]


class Phase(enum.Enum):
    """Where a stream is in its life (every tracker's ``phase``)."""

    DOWN = "down"  # no connection; waiting to (re)connect, or to look up first
    RESOLVING = "resolving"  # the lookup (resolve) or the redirect (hybrid) is under way
    CONNECTING = "connecting"  # TCP handshake under way
    OPEN = "open"  # TCP connected, no answer yet
    UP = "up"  # answered: ``connected`` recorded


#: A stream's phases while it is connected, before and after its first answer.
CONNECTED = (Phase.OPEN, Phase.UP)


class TrackedStream(LineStream):
    """A :class:`LineStream`, the tracker of its stream, and when it may start again.

    Args:
        tracker: the kind's tracker of this stream.
        interval: seconds between two requests.
    """

    def __init__(self, tracker: Any, interval: float) -> None:
        super().__init__(interval)
        self.tracker = tracker
        self.retry_at = 0.0  # monotonic: a waiting stream starts again from here


S = TypeVar("S", bound=TrackedStream)


class StreamLoop(Generic[S]):
    """The I/O of a probe's streams (``self.streams``) around their trackers.

    A kind sets the class attributes, ``streams``, ``writer`` and
    ``connect_timeout`` (``resolve_timeout`` too if its streams look up
    first: :attr:`Phase.RESOLVING`; ``duration`` and ``offsets`` if it runs
    :meth:`run`), and defines :meth:`_start`.
    """

    #: Seconds from a failed connection attempt, and from a lost connection, to the
    #: next start (None: the tracker says when, as ``tcp-retry``'s backoff does).
    CONNECT_RETRY: ClassVar[Optional[float]]
    RECONNECT: ClassVar[Optional[float]]

    streams: List[S]
    writer: RecordWriter
    connect_timeout: float
    resolve_timeout: float = 0.0
    duration: Optional[float] = None
    offsets: List[float]

    # -- what a kind adds ------------------------------------------------------
    def _start(self, s: S) -> None:
        """Start a stream whose wait is over: a connection (:meth:`_connect`), or a lookup."""
        raise NotImplementedError

    def _resolve_timed_out(self, s: S) -> None:
        """The lookup (``RESOLVING``) took ``resolve_timeout``: fail it."""
        raise NotImplementedError

    def _drop(self, s: S) -> None:
        """Close what the stream has open (its socket; a kind may have more)."""
        s.close()

    def _live(self, s: S, now: Now) -> None:
        """What a connected stream does at every step besides sending (nothing here)."""

    def _deadlines(self, s: S) -> List[Optional[float]]:
        """A connected stream's deadlines besides its next send (None: none)."""
        return [s.tracker.answer_deadline()]

    def _last(self, s: S, now: Now) -> List[Record]:
        """A stream's records when the probe stops."""
        return list(s.tracker.close(now))

    # -- records -------------------------------------------------------------
    def _write(self, records: Iterable[Record]) -> None:
        for record in records:
            self.writer.write(record)

    def counts(self) -> Dict[str, int]:
        """The trackers' counts, summed over the streams."""
        return total_counts(s.tracker.counts for s in self.streams)

    # -- one stream's I/O ------------------------------------------------------
    def _retry(self, s: S, now: Now, delay: Optional[float]) -> None:
        if delay is not None:
            s.retry_at = now.mono + delay

    def _connect(self, s: S, address: Tuple[str, int]) -> None:
        """The handshake to ``address`` starts (the tracker has been told)."""
        code = s.connect(address)
        if code == 0:
            self._established(s)
        elif code is not None:
            self._connect_failed(s, errno_name(code))

    def _connect_failed(self, s: S, error: str) -> None:
        now = Now.read()
        self._drop(s)
        self._write([s.tracker.connect_failed(error, now)])
        self._retry(s, now, self.CONNECT_RETRY)

    def _established(self, s: S) -> None:
        now = Now.read()
        s.tracker.established(now)
        s.next_send = now.mono
        self._send_lines(s)

    def _lost(self, s: S, event: str, error: str) -> None:
        """The connection broke: ``reset``, ``timeout`` or ``eof``."""
        now = Now.read()
        self._drop(s)
        self._write(listed(s.tracker.lost(event, error, now)))
        self._retry(s, now, self.RECONNECT)

    def _send_lines(self, s: S) -> None:
        """Send the requests that are due (on the absolute schedule)."""
        now = Now.read()
        gone = s.send_due(now.mono, lambda: s.tracker.sent(now))
        if gone is not None:
            self._lost(s, *gone)

    def _receive(self, s: S) -> None:
        answers, gone = s.receive()
        if gone is not None:
            self._lost(s, *gone)
            return
        now = Now.read()
        for answer in answers:
            if answer is None:
                s.tracker.counts["ignored"] += 1
                continue
            self._write(s.tracker.answered(answer[0], answer[1], now))

    def _writable(self, s: S) -> None:
        if s.tracker.phase is Phase.CONNECTING:
            code = s.connect_error()
            if code:
                self._connect_failed(s, errno_name(code))
            else:
                self._established(s)
        elif s.outbuf:
            gone = s.flush()
            if gone is not None:
                self._lost(s, *gone)

    def _step(self, s: S) -> List[float]:
        """Act on the stream's due deadlines.

        Returns:
            The monotonic times of its next deadlines.
        """
        tracker = s.tracker
        now = Now.read()
        phase = tracker.phase
        if phase is Phase.DOWN and now.mono >= s.retry_at:
            self._start(s)
        elif phase is Phase.RESOLVING and now.mono >= tracker.started + self.resolve_timeout:
            self._resolve_timed_out(s)
        elif phase is Phase.CONNECTING and now.mono >= tracker.started + self.connect_timeout:
            self._connect_failed(s, "ETIMEDOUT")
        if tracker.phase in CONNECTED:
            records = tracker.expire(now)
            if records:
                self._drop(s)
                self._write(records)
                self._retry(s, now, self.RECONNECT)
            else:
                self._live(s, now)
                if s.next_send <= now.mono:
                    self._send_lines(s)
        return self._wake(s)

    def _wake(self, s: S) -> List[float]:
        tracker = s.tracker
        phase = tracker.phase
        if phase is Phase.DOWN:
            return [s.retry_at]
        if phase is Phase.RESOLVING:
            return [tracker.started + self.resolve_timeout]
        if phase is Phase.CONNECTING:
            return [tracker.started + self.connect_timeout]
        return [s.next_send, *(t for t in self._deadlines(s) if t is not None)]

    # -- select ----------------------------------------------------------------
    def _wait_on(self, s: S, readers: List[Any], writers: List[Any]) -> Any:
        """Put the stream's socket in ``select``'s lists; return it (None: it has none)."""
        if s.sock is None:
            return None
        s.wait_on(s.tracker.phase is Phase.CONNECTING, readers, writers)
        return s.sock

    def _watch(self, readers: List[Any], writers: List[Any]) -> Dict[Any, S]:
        """Every stream's socket in ``select``'s lists: socket -> its stream."""
        owner: Dict[Any, S] = {}
        for s in self.streams:
            sock = self._wait_on(s, readers, writers)
            if sock is not None:
                owner[sock] = s
        return owner

    def _ready(self, s: S, sock: Any, write: bool) -> None:
        """One ready socket of ``s``, if it is still the stream's."""
        if s.sock is not sock:
            return  # dropped meanwhile
        if write:
            self._writable(s)
        else:
            self._receive(s)

    def _dispatch(self, readable: List[Any], writable: List[Any], owner: Dict[Any, S]) -> None:
        """The streams' sockets ``select`` found ready: the writable first."""
        for sock in writable:
            self._ready(owner[sock], sock, write=True)
        for sock in readable:
            if sock in owner:
                self._ready(owner[sock], sock, write=False)

    def _close_streams(self) -> None:
        """The probe stops: each stream's last records, then what it has open closed."""
        now = Now.read()
        for s in self.streams:
            self._write(self._last(s, now))
            self._drop(s)

    # -- the loop --------------------------------------------------------------
    def run(self, stop: proc.StopSignal) -> Dict[str, int]:
        """Run the streams until the duration ends or ``stop`` fires.

        Returns:
            The summed counts (see :meth:`counts`).
        """
        try:
            self._loop(stop)
        finally:
            for s in self.streams:
                self._drop(s)
        return self.counts()

    def _loop(self, stop: proc.StopSignal) -> None:
        start = time.monotonic()
        end = None if self.duration is None else start + self.duration
        for s, offset in zip(self.streams, self.offsets, strict=True):
            s.retry_at = start + offset
        while not stop.stopped and (end is None or time.monotonic() < end):
            wake: List[float] = [] if end is None else [end]
            for s in self.streams:
                wake.extend(self._step(s))
            readers: List[Any] = [stop]
            writers: List[Any] = []
            owner = self._watch(readers, writers)
            wait = max(0.0, min(wake) - time.monotonic())
            readable, writable, _ = select.select(readers, writers, [], wait)
            if stop in readable:
                stop.drain()
            self._dispatch(readable, writable, owner)
        if stop.count >= 2:
            return  # a second signal: leave at once
        self._close_streams()
