"""Admin pages: users and the audit log."""
