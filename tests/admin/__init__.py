"""Tests of the admin pages: users and the audit log."""
