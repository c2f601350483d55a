"""Topologies: the model of the emulated internet, its loader and generators."""

from testbed.topology.model import AS, Client, Link, Session, Site, Topology

__all__ = ["AS", "Client", "Link", "Session", "Site", "Topology"]
