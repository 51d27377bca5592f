"""Alerts raised by the scheduled jobs, their inbox, the email digest, and the record of job runs."""
