"""Reference data managed by admins: facilities, enclosures and the species catalogue."""
