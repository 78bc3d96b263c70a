"""Textual widgets and screens for scillm-tui."""
