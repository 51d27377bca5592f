"""Browser tests: the real pages in Chromium, served by a real WSGI server."""
