"""A tiny service used by the core_sdk tests (in-process and through a real taskiq worker)."""
