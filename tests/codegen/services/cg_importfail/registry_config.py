from __future__ import annotations


def _configure() -> None:
    raise RuntimeError("the registry cannot be configured")  # error: importing failed


_configure()
