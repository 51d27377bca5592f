"""Releases: readiness criteria and assessments, release sites and plans, monitoring, transfers."""
