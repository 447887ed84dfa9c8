"""Benchmark scripts whose findings are written down in benchmarks/README.md (kept to reproduce them):
``python -m benchmarks.archive.NAME`` from the repository root."""
