"""The attack sender: UDP packets to the anycast service address at a paced rate.

Runs in an attack source's namespace, one process per source::

    python -m testbed.attack.sender --source atk1 --as eyeball1 \\
        --target 192.0.2.53 --prefix 192.0.2.0/24 --rate 20000 [--ramp 5] \\
        [--size 100] [--kind dns|junk] [--duration 60] [--seed 0] \\
        [--zone anycast.test] --out RUN/records/attack-atk1.jsonl

It sends to port 53 of ``--target`` from one unconnected, non-blocking UDP
socket (a connected one would get ECONNREFUSED from every ICMP error and
stall), through batched ``sendmmsg(2)`` (ctypes), at most :data:`~testbed.attack.pacing.BATCH`
packets a call, cycling through a pool of payloads (:mod:`testbed.attack.payload`)
made once from ``--seed`` and the source name.  :class:`~testbed.attack.pacing.Pacer`
says how many are due; the loop sends them and sleeps until the next ones.
A full buffer or a missing route (EAGAIN, ENOBUFS, ENETUNREACH, ...) counts
as an error and is retried after a short sleep (:data:`RETRY_AFTER`).

It refuses to start (exit 2, one line on stderr, nothing sent, no records)
when a ceiling of :mod:`testbed.attack.limits` is exceeded, when the target
is not inside ``--prefix`` (or is a loopback, multicast, broadcast,
unspecified or link-local address, or the prefix's own network or broadcast
address, or the prefix overlaps a reserved range), and when it runs in the
root network namespace (PID 1's, or kthreadd's where PID 1's cannot be read)
or cannot tell: attack traffic leaves only from a testbed namespace.

It stops by itself after ``--duration`` (default and most: 600 s), on
SIGTERM and on SIGINT (handled explicitly: a background job inherits SIGINT
ignored).  Records (docs/records.md, JSON Lines, flushed per line): a
``start`` record, a ``sent`` record every second and a ``stop`` record, both
with the cumulative ``sent`` (packets the kernel took), ``errors`` (send
calls that failed and were retried) and ``skipped`` (packets the schedule
owed but a sender that fell behind forgot, see :mod:`testbed.attack.pacing`);
the stop's ``reason`` is ``duration``, ``stopped`` (SIGTERM: the testbed
stopped it), ``signal`` (SIGINT) or ``error`` (a send failed for good: exit 1).
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import ipaddress
import os
import random
import resource
import select
import socket
import struct
import sys
import time
from typing import Any, List, Optional

from testbed import proc
from testbed.attack import limits, payload
from testbed.attack.pacing import BATCH, Pacer
from testbed.records import RecordWriter
from testbed.topology.addressing import prefix_clash

PROG = "python -m testbed.attack.sender"
#: The destination port (DNS).
PORT = 53
#: Payloads in the pool the sender cycles through (a multiple of the batch).
POOL = 1024
#: Seconds between two ``sent`` records.
REPORT_EVERY = 1.0
#: Errors after which the send is tried again, counted in ``errors``, with the
#: seconds to wait first: a full buffer soon drains, a missing route takes longer.
RETRY_AFTER = {
    errno.EAGAIN: 0.001,
    errno.ENOBUFS: 0.001,
    errno.ENOMEM: 0.001,
    errno.ENETUNREACH: 0.01,
    errno.EHOSTUNREACH: 0.01,
    errno.ENETDOWN: 0.01,
    errno.EPERM: 0.01,  # a firewall rule refusing the packet
    errno.ECONNREFUSED: 0.001,
}
#: The zone the DNS names go under by default: the one the sites serve.
ZONE = "anycast.test."
#: The network namespace of PID 1: the root one, where attack traffic must never start.
ROOT_NETNS = "/proc/1/ns/net"
#: kthreadd's: a kernel thread is always in the root namespace.
KTHREADD_NETNS = "/proc/2/ns/net"
SELF_NETNS = "/proc/self/ns/net"
#: A kernel thread's flag in /proc/PID/stat.
PF_KTHREAD = 0x00200000


# -- sendmmsg through ctypes ------------------------------------------------------


class _Iovec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


class _Msghdr(ctypes.Structure):
    _fields_ = [
        ("msg_name", ctypes.c_void_p),
        ("msg_namelen", ctypes.c_uint32),
        ("msg_iov", ctypes.POINTER(_Iovec)),
        ("msg_iovlen", ctypes.c_size_t),
        ("msg_control", ctypes.c_void_p),
        ("msg_controllen", ctypes.c_size_t),
        ("msg_flags", ctypes.c_int),
    ]


class _Mmsghdr(ctypes.Structure):
    _fields_ = [("msg_hdr", _Msghdr), ("msg_len", ctypes.c_uint)]


class _SockaddrIn(ctypes.Structure):
    _fields_ = [
        ("sin_family", ctypes.c_ushort),
        ("sin_port", ctypes.c_ubyte * 2),
        ("sin_addr", ctypes.c_ubyte * 4),
        ("sin_zero", ctypes.c_ubyte * 8),
    ]


class BatchSender:
    """``sendmmsg(2)`` of a fixed pool of payloads to one address, in order, cyclically.

    Every message's header, address and buffer are made once; a call sends
    the next ``n`` payloads of the pool (never past its end: the next call
    starts again from the beginning).
    """

    def __init__(self, fd: int, target: str, port: int, payloads: List[bytes]):
        """Lay out the pool for ``sendmmsg``.

        Args:
            fd: a non-blocking, unconnected UDP socket's file descriptor.
            target: the destination IPv4 address.
            port: the destination port.
            payloads: the pool (at least one).
        """
        libc = ctypes.CDLL(None, use_errno=True)
        self._sendmmsg = libc.sendmmsg
        self._sendmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
        self._sendmmsg.restype = ctypes.c_int
        self.fd = fd
        self.size = len(payloads)
        self.next = 0
        self._addr = _SockaddrIn(socket.AF_INET)
        self._addr.sin_port[:] = list(struct.pack("!H", port))
        self._addr.sin_addr[:] = list(socket.inet_aton(target))
        self._data = ctypes.create_string_buffer(b"".join(payloads), sum(map(len, payloads)))
        self._iov = (_Iovec * self.size)()
        self._msgs = (_Mmsghdr * self.size)()
        base = ctypes.addressof(self._data)
        offset = 0
        for i, one in enumerate(payloads):
            self._iov[i].iov_base = base + offset
            self._iov[i].iov_len = len(one)
            offset += len(one)
            hdr = self._msgs[i].msg_hdr
            hdr.msg_name = ctypes.addressof(self._addr)
            hdr.msg_namelen = ctypes.sizeof(_SockaddrIn)
            hdr.msg_iov = ctypes.pointer(self._iov[i])
            hdr.msg_iovlen = 1
        self._msgs_at = ctypes.addressof(self._msgs)
        self._msg_size = ctypes.sizeof(_Mmsghdr)

    def send(self, count: int) -> int:
        """Send up to ``count`` payloads (at most to the pool's end) in one call.

        Returns:
            How many the kernel took.

        Raises:
            OSError: the call failed (nothing was sent).
        """
        n = min(count, self.size - self.next)
        done = self._sendmmsg(self.fd, self._msgs_at + self.next * self._msg_size, n, 0)
        if done < 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
        self.next = (self.next + done) % self.size
        return done


# -- checks before anything is sent ------------------------------------------------


def target_problem(target: str, prefix: str) -> Optional[str]:
    """Why ``target`` may not be attacked inside ``prefix`` (None: it may)."""
    try:
        net = ipaddress.IPv4Network(prefix)
    except ValueError as exc:
        return f"--prefix {prefix}: {exc}"
    addr = ipaddress.IPv4Address(target)
    clash = prefix_clash(net)
    if clash:
        return f"--prefix {net} {clash}"
    if addr not in net:
        return f"--target {addr} is not inside --prefix {net}"
    kinds = [
        ("unspecified", addr.is_unspecified),
        ("loopback", addr.is_loopback),
        ("multicast", addr.is_multicast),
        ("link-local", addr.is_link_local),
        ("broadcast", addr == ipaddress.IPv4Address("255.255.255.255")),
        ("the prefix's network", net.prefixlen < 31 and addr == net.network_address),
        ("the prefix's broadcast", net.prefixlen < 31 and addr == net.broadcast_address),
    ]
    for what, hit in kinds:
        if hit:
            return f"--target {addr} is {what} address"
    return None


def _is_kernel_thread(pid: int) -> bool:
    """True if ``pid`` is a kernel thread (PF_KTHREAD): it is in the root namespaces."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return bool(int(fields[6]) & PF_KTHREAD)
    except (OSError, IndexError, ValueError):
        return False


def root_netns_refs() -> List[str]:
    """Files naming the root network namespace: PID 1's, and kthreadd's (PID 2).

    A process without every capability of PID 1 may not read PID 1's
    namespaces (so it is on this machine, whose PID 1 holds capabilities its
    children lack); kthreadd's are readable, and a kernel thread is always in
    the root namespaces.
    """
    refs = [ROOT_NETNS]
    if _is_kernel_thread(2):
        refs.append(KTHREADD_NETNS)
    return refs


def netns_problem(own: str = SELF_NETNS, roots: Optional[List[str]] = None) -> Optional[str]:
    """Why this process may not send here (None: it is in a testbed namespace).

    Compares this process's network namespace (device and inode) with the
    root one's (:func:`root_netns_refs`); a namespace that cannot be told
    apart from the root one is refused too.
    """
    try:
        mine = os.stat(own)
    except OSError as exc:
        return f"cannot read {own} ({exc.strerror}): refusing to send"
    known = False
    for ref in root_netns_refs() if roots is None else roots:
        try:
            root = os.stat(ref)
        except OSError:
            continue
        known = True
        if (mine.st_dev, mine.st_ino) == (root.st_dev, root.st_ino):
            return (
                "this is the root network namespace: attack traffic leaves only from "
                "a testbed namespace"
            )
    if not known:
        return "cannot tell whether this is the root network namespace: refusing to send"
    return None


def refusal(args: Any) -> Optional[str]:
    """The first reason to refuse these arguments (None: go ahead)."""
    found = limits.check(args.rate, 1, args.size, args.duration, args.ramp)
    if found:
        return "; ".join(found)
    try:
        payload.zone_wire(args.zone)
    except ValueError as exc:
        return f"--zone: {exc}"
    return target_problem(args.target, args.prefix) or netns_problem()


# -- the loop ------------------------------------------------------------------------


class Sender:
    """One attack source's loop: pacing, sendmmsg batches, records."""

    def __init__(self, args: Any, writer: RecordWriter):
        """Prepare the payloads and the schedule (nothing is sent yet)."""
        self.args = args
        self.writer = writer
        self.pacer = Pacer(args.rate, args.ramp, args.duration)
        rng = random.Random(f"attack:{args.seed}:{args.source}")
        self.payloads = payload.pool(args.kind, args.size, POOL, rng, args.zone)
        self.sent = 0
        self.errors = 0
        self.elapsed = 0.0

    def _record(self, kind: str, **extra: Any) -> None:
        self.writer.write({"t": time.time(), "kind": kind, "source": self.args.source, **extra})

    def run(self, stop: proc.StopSignal) -> str:
        """Send until the duration ends or a signal comes.

        Returns:
            The stop reason: ``duration``, ``stopped`` (SIGTERM) or ``signal`` (SIGINT).
        """
        a = self.args
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.bind(("0.0.0.0", 0))
            sender = BatchSender(sock.fileno(), a.target, PORT, self.payloads)
            self._record(
                "start",
                **{"as": a.as_},
                target=a.target,
                rate=a.rate,
                ramp=a.ramp,
                size=a.size,
                attack=a.kind,
                duration=a.duration,
            )
            try:
                reason = self._loop(sender, stop)
            except OSError:
                self._stop("error")
                raise
        self._stop(reason)
        return reason

    def _stop(self, reason: str) -> None:
        self._record(
            "stop", sent=self.sent, errors=self.errors, skipped=self.pacer.skipped, reason=reason
        )

    def _loop(self, sender: BatchSender, stop: proc.StopSignal) -> str:
        pacer = self.pacer
        end = self.args.duration
        start = time.monotonic()
        next_report = REPORT_EVERY
        while True:
            now = time.monotonic() - start
            last = now >= end  # send what the whole duration owes, then stop
            self._send(sender, stop, pacer.to_send(min(now, end), self.sent))
            self.elapsed = min(time.monotonic() - start, end) if last else now
            if stop.stopped:
                return "stopped" if stop.signame == "SIGTERM" else "signal"
            if last:
                return "duration"
            if now >= next_report:
                self._record("sent", sent=self.sent, errors=self.errors, skipped=pacer.skipped)
                next_report = (now // REPORT_EVERY + 1) * REPORT_EVERY
            wake = min(pacer.next_wake(self.sent), next_report, end)
            self._wait(stop, wake - (time.monotonic() - start))

    def _send(self, sender: BatchSender, stop: proc.StopSignal, owed: int) -> None:
        """Send ``owed`` packets in batches; after an error, wait a little and give up for now."""
        while owed > 0 and not stop.stopped:
            try:
                done = sender.send(min(owed, BATCH))
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                if exc.errno not in RETRY_AFTER:
                    raise
                self.errors += 1
                self._wait(stop, RETRY_AFTER[exc.errno])
                return
            self.sent += done
            owed -= done

    @staticmethod
    def _wait(stop: proc.StopSignal, seconds: float) -> None:
        """Sleep ``seconds`` (if positive), waking at once on a signal."""
        if seconds <= 0:
            return
        readable, _, _ = select.select([stop], [], [], seconds)
        if readable:
            stop.drain()


# -- the process ---------------------------------------------------------------------


def _nonnegative(value: str) -> float:
    """argparse type: a number >= 0."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {value!r}") from None
    if not number >= 0:
        raise argparse.ArgumentTypeError(f"{value} must be 0 or more")
    return number


def _integer(value: str) -> int:
    """argparse type: an integer."""
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {value!r}") from None


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog=PROG,
        description="Attack sender: paced UDP to port 53 of the anycast service address, "
        "from a testbed namespace only, under the ceilings of docs/load.md.",
    )
    p.add_argument("--source", required=True, type=proc.name, help="attack source (host) name")
    p.add_argument("--as", dest="as_", required=True, type=proc.name, help="its AS")
    p.add_argument("--target", required=True, type=proc.ipv4, help="the service address")
    p.add_argument("--prefix", required=True, help="the anycast prefix the target is inside")
    p.add_argument(
        "--rate",
        required=True,
        type=proc.bounded(0),
        help=f"packets/s once ramped up (at most {limits.MAX_SOURCE_RATE})",
    )
    p.add_argument(
        "--ramp",
        default=0.0,
        type=_nonnegative,
        help=f"seconds from 0 to the rate (default 0, at most {limits.MAX_RAMP})",
    )
    p.add_argument(
        "--size",
        default=100,
        type=_integer,
        help=f"UDP payload bytes (default 100, {limits.MIN_SIZE} to {limits.MAX_SIZE})",
    )
    p.add_argument("--kind", default="dns", choices=payload.KINDS, help="payload (default dns)")
    p.add_argument(
        "--duration",
        default=float(limits.MAX_DURATION),
        type=proc.bounded(0),
        help=f"stop after this many seconds (default and at most {limits.MAX_DURATION})",
    )
    p.add_argument(
        "--seed",
        default=0,
        type=_integer,
        help="seed of the payloads, with the source name (default 0)",
    )
    p.add_argument("--zone", default=ZONE, help=f"zone of the DNS names (default {ZONE})")
    proc.add_out(p)
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.attack.sender``."""
    parser = _parser()
    args = proc.arguments(parser, argv)
    problem = refusal(args)
    if problem:
        proc.fail(PROG, problem, proc.EXIT_USAGE)
    with proc.recording(PROG, args.out) as (stop, writer):
        sender = Sender(args, writer)
        try:
            reason = sender.run(stop)
        except OSError as exc:
            proc.fail(PROG, f"sending to {args.target}: {exc.strerror}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    pps = sender.sent / sender.elapsed if sender.elapsed > 0 else 0.0
    sys.stderr.write(
        f"attack sender {args.source}: sent {sender.sent} in {sender.elapsed:.2f} s "
        f"({pps:.0f} packets/s), errors {sender.errors}, skipped {sender.pacer.skipped}, "
        f"stopped: {reason}, cpu {usage.ru_utime + usage.ru_stime:.2f} s\n"
    )


if __name__ == "__main__":
    main()
