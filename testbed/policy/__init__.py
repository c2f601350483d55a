"""Routing policy checks on what the routers hold (pure, no I/O): the valley-free check."""
