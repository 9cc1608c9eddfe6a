"""The migrations, oldest first (each names the revision it follows)."""
