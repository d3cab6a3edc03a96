"""Student-like submissions for the course's assignments, written independently of the
instructor's mistake catalogue: each mistake must lose exactly its exercise's points with
feedback that names it, and each valid variation must get full marks."""
