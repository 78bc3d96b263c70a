"""The dashboard's widgets, one per module, each with its nested messages."""
