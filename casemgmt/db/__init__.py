"""Database backends: Django's own, adjusted where this project's settings need it."""
