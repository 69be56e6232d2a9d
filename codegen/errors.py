"""Errors the generator reports to the user (exit code 2)."""

from __future__ import annotations

from codegen.ir import SourceLocation


class CodegenError(Exception):
    """A problem in the user's code or command line; printed as ``path:line: message``."""

    def __init__(self, message: str, location: SourceLocation | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class CodegenErrors(CodegenError):
    """Several independent errors, reported together so one run shows all of them."""

    def __init__(self, errors: list[CodegenError]) -> None:
        flat = [each for error in errors for each in flatten(error)]
        ordered = sorted(flat, key=lambda e: (e.location is None, e.location, e.message))
        super().__init__("\n".join(str(error) for error in ordered))
        self.errors = ordered

    def __str__(self) -> str:
        return self.message


def flatten(error: CodegenError) -> list[CodegenError]:
    """The individual errors inside ``error``."""
    return list(error.errors) if isinstance(error, CodegenErrors) else [error]


def describe(exc: BaseException) -> str:
    """``Type: message`` of an exception raised by the service's code, even when its
    ``__str__`` raises."""
    try:
        text = str(exc)
    except Exception as failure:
        text = f"<the exception's str() raised {type(failure).__name__}>"
    return f"{type(exc).__name__}: {text}"


def safe_repr(value: object) -> str:
    """``repr(value)`` of an object of the service's, even when its ``__repr__`` raises."""
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__qualname__} object (its repr() raised)>"
