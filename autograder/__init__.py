"""TensorFlow course autograder: read -> run (sandboxed) -> judge -> record."""

__version__ = "0.3.0"  # 0.2: checks stored once in the gradebook; 0.2.1: time limits follow the load now;
# 0.3.0: a public check earns its points only with its unpublished sibling; training checks see training
