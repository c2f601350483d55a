"""What a Ryu (os-ken) site speaker configures on its sessions, and what the session ends up with.

Pure functions, no Ryu import, so they are unit-tested and shared by the
speaker process (:mod:`testbed.speaker.ryu_speaker`) and the caveats
(:mod:`testbed.topology.capabilities`).  What Ryu 4.34's BGP API offers,
read from its source (``bgpspeaker.py``, ``rtconf/neighbors.py``,
``rtconf/base.py``, ``speaker.py``; os-ken is the same code):

- **hold time**: ``neighbor.create`` takes ``hold_time`` (``neighbor_add``
  does not expose it; default 40 s), validated as an integer of at least
  :data:`RYU_MIN_HOLD` s.  The session's hold time is negotiated in the OPEN
  messages: the lower of both ends (RFC 4271 4.2; Ryu's
  ``_start_timers``), so with the FRR end asking for less than 10 s the
  session still runs the topology's value.
- **keepalive**: not configurable; Ryu sends one every negotiated hold // 3
  seconds.
- **connect-retry**: Ryu's is a global (``bgp_conn_retry_time``) of the
  speaker, but the site speaker is passive (``connect_mode: passive``: the
  FRR upstream opens every session, so the two never collide), so the FRR
  end's ``timers connect`` is what applies.
- no advertisement-interval (MRAI) and no BFD.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

#: Ryu's ``validate_hold_time`` rejects a hold time below this (seconds).
RYU_MIN_HOLD = 10
#: Ryu's default hold time when none is given (``DEFAULT_HOLD_TIME``).
RYU_DEFAULT_HOLD = 40
#: Setting names of ``neighbor.create`` (the same strings in Ryu and os-ken).
IP_ADDRESS = "ip_address"
REMOTE_AS = "remote_as"
HOLD_TIME = "hold_time"
CONNECT_MODE = "connect_mode"
CAP_MBGP_IPV4 = "cap_mbgp_ipv4"


def ryu_hold(hold: Optional[int]) -> int:
    """The hold time the speaker configures for a session that asks for ``hold`` seconds.

    Ryu refuses less than :data:`RYU_MIN_HOLD`; the negotiation (lower end
    wins) then brings the session down to the FRR end's value.
    """
    if hold is None:
        return RYU_DEFAULT_HOLD
    return max(int(hold), RYU_MIN_HOLD)


def neighbor_settings(address: str, remote_as: int, hold: Optional[int]) -> Dict[str, Any]:
    """The keyword arguments of Ryu's ``neighbor.create`` call for one upstream.

    Args:
        address: the upstream's address on the uplink.
        remote_as: the upstream's AS.
        hold: the hold time the topology asks for on this session (None: Ryu's default).

    Returns:
        Settings: the address, AS, IPv4 unicast, passive connect mode and the hold time.
    """
    return {
        IP_ADDRESS: address,
        REMOTE_AS: remote_as,
        CAP_MBGP_IPV4: True,
        # passive: FRR (connect-retry 1 s) opens the session, so the two never
        # collide (with "both", Ryu closes one of them a few seconds later)
        CONNECT_MODE: "passive",
        HOLD_TIME: ryu_hold(hold),
    }


@dataclass(frozen=True)
class SessionTimers:
    """The timers a Ryu site's session with one FRR upstream runs with (seconds)."""

    configured_hold: int  # what the speaker asks for (its OPEN message)
    hold: int  # negotiated: the lower of both ends
    keepalive: int  # what Ryu sends: hold // 3
    connect_retry: int  # the FRR end's (it opens the session)


def session_timers(
    site_hold: int, upstream_hold: int, upstream_connect_retry: int
) -> SessionTimers:
    """The timers of a Ryu site's session, from what each end is configured with.

    Args:
        site_hold: the hold time the topology asks for on the site's end.
        upstream_hold: the hold time of the FRR upstream's end.
        upstream_connect_retry: the FRR upstream's connect-retry timer.

    Returns:
        The configured and negotiated hold time, Ryu's keepalive interval, the connect-retry.
    """
    configured = ryu_hold(site_hold)
    hold = min(configured, upstream_hold)
    return SessionTimers(configured, hold, hold // 3, upstream_connect_retry)
