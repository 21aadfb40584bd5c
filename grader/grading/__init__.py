"""Grading many submissions: the pipeline, its workers (local or Dask), and the course gradebook."""
