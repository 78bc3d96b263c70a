"""Headless service layer: settings, client, runs, judge, artifacts.

Nothing in this package may import textual or rich (tests/test_import_contract.py).
"""
