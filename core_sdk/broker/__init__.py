"""Broker, task, result backend and wire codec.

Import ``core_sdk.broker.setup`` for the process-wide broker; this package itself has no
side effects.
"""
