"""scillm-tui: a terminal cockpit for best-of-N + judge runs."""

__version__ = "0.1.0"
