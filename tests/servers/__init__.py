"""Test servers: the fault-injecting OpenAI-compatible app, a black hole, pytest fixtures."""
