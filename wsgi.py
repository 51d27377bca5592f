"""WSGI entry point for gunicorn and `flask --app wsgi`; APP_ENV picks the configuration."""

from app import create_app

app = create_app()
