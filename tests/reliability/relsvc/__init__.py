"""A small service for the fault-injection suite (run by real ``taskiq worker`` processes)."""
