"""The scillm-tui benchmark suite: `python -m bench [--quick]` (see docs/performance.md)."""
