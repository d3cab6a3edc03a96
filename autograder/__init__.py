"""TensorFlow course autograder: read -> run (sandboxed) -> judge -> record."""

__version__ = "0.2.1"  # 0.2: checks stored once in the gradebook; 0.2.1: time limits follow the load now
