"""Health checks of anycast sites: a rise/fall state machine and the agent that acts on it."""
