"""Screens: the dashboard's own, and those pushed over it (zoom, Markdown, pickers)."""
