"""Tests of accounts: sign-in, sessions, throttling, tokens, passwords."""
