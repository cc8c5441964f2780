"""Benchmarks: `make bench` (bench/run.py) and `make bench-documents` (bench/documents.py)."""
