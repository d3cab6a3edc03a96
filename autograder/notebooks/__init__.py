"""Student notebooks: reading submissions, and the public checks a notebook carries."""
