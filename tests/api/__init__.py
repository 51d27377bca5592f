"""Tests of the JSON API's reference-data endpoints."""
