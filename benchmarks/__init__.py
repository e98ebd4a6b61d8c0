"""Benchmarks: one command each, printing a table next to a baseline measured in the same run."""
