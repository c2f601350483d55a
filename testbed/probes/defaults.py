"""What the clients send unless told otherwise: one place for every default.

The scenario file's ``traffic`` block (:class:`testbed.scenario.model.Traffic`),
the traffic a run starts (:class:`testbed.traffic.TrafficParams`), ``up
--traffic``'s options, the probes' and the stream service's own command lines
all take their defaults from here, so they cannot drift apart.
"""

from __future__ import annotations

#: The anycast service address the sites serve and the clients ask, unless told otherwise.
SERVICE_ADDRESS = "192.0.2.53"
#: DNS queries per second per client.
DNS_RATE = 20.0
#: The highest DNS rate (queries/s): 200 brackets an outage to 5 ms.
MAX_DNS_RATE = 200
#: Seconds before an unanswered DNS query counts as lost.
DNS_TIMEOUT = 1.0
#: Long-lived TCP streams per client.
TCP_STREAMS = 2
#: Seconds between two messages on a TCP stream.
TCP_INTERVAL = 0.2
#: Seconds without an answer before a TCP stream times out.
TCP_TIMEOUT = 3.0
#: The stream service's TCP port.
STREAM_PORT = 8053
#: The HTTP service's port (nginx at every site server: http-short, hybrid).
HTTP_PORT = 80
#: Short HTTP requests per second per client (http-short).
HTTP_RATE = 5.0
#: Seconds an HTTP request (connection, request, answer) may take before it counts as failed.
HTTP_TIMEOUT = 2.0
#: The highest http-short rate (requests/s per client).
MAX_HTTP_RATE = 200.0
#: DNS-over-TCP queries per second per client (dns-tcp), and the highest.
DNSTCP_RATE = 5.0
MAX_DNSTCP_RATE = 100.0
#: UDP ports of the QUIC services: ``quic`` (each site its own state) and ``quic-shared``.
QUIC_PORT = 4433
QUIC_SHARED_PORT = 4434
#: Long QUIC connections per client (quic, quic-shared), and the most.
QUIC_CONNECTIONS = 2
MAX_QUIC_CONNECTIONS = 64
#: tcp-retry's first reconnect delay (s), doubled after each failure up to the ceiling (s).
RETRY_BACKOFF = 0.1
RETRY_BACKOFF_MAX = 2.0
#: The largest first delay and ceiling the retry probe accepts (s).
MAX_RETRY_BACKOFF = 60.0
MAX_RETRY_BACKOFF_CEILING = 600.0
#: Ticks per second per client of the ``resolve`` probe (each resolves every published
#: name through the client's resolver, then asks the site it names), and the most.
RESOLVE_RATE = 5.0
MAX_RESOLVE_RATE = 50.0
#: Long TCP streams per client and published name of the ``resolve`` probe (each resolves
#: the name through the client's resolver before every connection), and the most.
RESOLVE_STREAMS = 1
MAX_RESOLVE_STREAMS = 16
