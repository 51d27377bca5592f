"""Accounts, roles, facilities, sessions and API tokens: who may do what, and where."""
