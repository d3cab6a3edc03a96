"""TensorFlow course autograder: read -> run (sandboxed) -> judge -> record."""

__version__ = "0.2.0"  # 0.2: checks stored once in the gradebook
