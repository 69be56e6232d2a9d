"""The service the benchmarks call: one model, a trivial operation and a wide-payload one.

``bench`` copies this package to a temporary directory and generates its ``_tasks.py`` there
with ``dam-codegen`` at the start of every run (so the generated module is never stale).
"""
