"""Write generated files, or compare them with what is on disk (``--check``)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from codegen.errors import CodegenError
from codegen.ir import SourceLocation


@dataclass(frozen=True)
class FileUpdate:
    """The wanted content of one file, and what it holds now (None: it does not exist)."""

    path: Path
    display: str  # the path as shown to the user
    current: str | None
    wanted: str

    @property
    def changed(self) -> bool:
        return self.current != self.wanted

    def diff(self) -> str:
        """A unified diff from the file on disk to the wanted content."""
        lines = difflib.unified_diff(
            (self.current or "").splitlines(keepends=True),
            self.wanted.splitlines(keepends=True),
            fromfile=f"a/{self.display}" if self.current is not None else "/dev/null",
            tofile=f"b/{self.display}",
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(self.wanted, encoding="utf-8", newline="")


def read_current(path: Path, display: str) -> str | None:
    """The file's text as stored (newlines untranslated), or None when missing.

    dam-codegen reads and writes UTF-8 only: another encoding is a CodegenError at the line of
    the first byte that is not UTF-8.
    """
    if not path.is_file():
        return None
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CodegenError(
            f"the file is not UTF-8 (byte 0x{data[exc.start]:02x} cannot be decoded); "
            "dam-codegen reads and writes UTF-8 files only: convert it to UTF-8",
            SourceLocation(display, line),
        ) from None
    return text
