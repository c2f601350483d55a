"""anycast-testbed: a Mininet + FRR emulation testbed for BGP anycast."""

__version__ = "0.1.0"
