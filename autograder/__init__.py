"""TensorFlow course autograder: read -> run (sandboxed) -> judge -> record."""

__version__ = "0.1.0"
