"""Batch runs: a prompt file × N variants × judge, recorded in the history (issue 21).

`prompts` reads and checks the prompt file, `runner` drives the runs under shared limits
and records each one, `leaderboard` rates the models over a batch's judged runs.
"""
