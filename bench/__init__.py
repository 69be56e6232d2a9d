"""Benchmarks of the DAM SDK: run ``python -m bench`` (see README, Benchmarks)."""
