"""Academic integrity: which notebooks of a class were copied."""
