"""A course on disk: its assignments, their release to students and their validation."""
