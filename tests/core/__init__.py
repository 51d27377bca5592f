"""Tests of the foundation: database base, errors, pages, API base, health."""
