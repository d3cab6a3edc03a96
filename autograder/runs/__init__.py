"""Grading runs: one submission's flow, reference runs, batches and the Dask runner."""
