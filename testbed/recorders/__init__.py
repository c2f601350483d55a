"""Recorders that run in the testbed process: routes (netlink) and BGP (FRR)."""
