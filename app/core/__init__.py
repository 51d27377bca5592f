"""Pages that belong to no domain: the home page and the health check."""
