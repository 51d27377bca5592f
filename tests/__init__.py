"""Rescue Ledger's test suite."""
