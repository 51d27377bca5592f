"""Plumbing shared by every domain: database base, time, pagination, filters, audit."""
