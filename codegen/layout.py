"""Line layout for the generated module: its few shapes, wrapped as ``ruff format`` wraps them.

The generated module must pass ``ruff format --check`` as written, and the wheel must work
without the ruff binary, so the wrapping is done here. Only the shapes the templates emit are
supported: statements ending in one bracketed expression (calls, class bases, assignments,
collection literals) and function signatures. The rules are ruff's (black's) rules for those
shapes:

* a line that fits is kept flat;
* otherwise the last bracket pair is split: call arguments, class bases and subscripts first
  try to "hug" on one indented line, collection literals never hug;
* when the contents still do not fit, there is one item per line with a trailing comma
  (except a single call argument or subscript item, which is split recursively instead);
* a signature that does not fit splits its parameters first (a lone parameter gets a trailing
  comma), then its return annotation;
* a head that is itself too long (``Operation[<long type>](``) is split before the arguments;
* a union that does not fit breaks before each ``|`` (a return annotation is parenthesized).

``tests/codegen/test_layout.py`` checks these rules against the real ``ruff format``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

INDENT = "    "


def display_width(text: str) -> int:
    """Columns ``text`` takes, as ruff measures lines: wide East Asian characters count 2,
    combining marks 0."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(char) else 2 if unicodedata.east_asian_width(char) in "WF" else 1
        for char in text
    )


@dataclass(frozen=True)
class Text:
    """Source text that is never split."""

    text: str

    def flat(self) -> str:
        return self.text


@dataclass(frozen=True)
class Bracketed:
    """``head`` + ``open`` + items separated by ", " + ``close`` + ``tail``.

    ``collection`` marks list/dict/tuple literals (they never hug); ``single_comma`` keeps the
    trailing comma of a one-item tuple in flat form.
    """

    head: str | Doc
    open: str
    items: tuple[Doc, ...]
    close: str
    tail: str = ""
    collection: bool = False
    single_comma: bool = False

    def flat(self) -> str:
        inner = ", ".join(item.flat() for item in self.items)
        if self.single_comma and len(self.items) == 1:
            inner += ","
        head = self.head if isinstance(self.head, str) else self.head.flat()
        return f"{head}{self.open}{inner}{self.close}{self.tail}"


@dataclass(frozen=True)
class Union:
    """``head`` + members joined by `` | `` + ``tail``; split before each ``|`` when too long."""

    members: tuple[Doc, ...]
    head: str = ""
    tail: str = ""

    def flat(self) -> str:
        return self.head + " | ".join(member.flat() for member in self.members) + self.tail


Doc = Text | Bracketed | Union


@dataclass(frozen=True)
class Layout:
    """Where lines break: the maximum line length (``line-length`` of the service's ruff config)."""

    width: int = 88

    def fits(self, line: str) -> bool:
        return display_width(line) <= self.width

    def lines(self, doc: Doc, indent: str = "", prefix: str = "", suffix: str = "") -> list[str]:
        """``prefix`` + ``doc`` + ``suffix`` at ``indent``, split over as many lines as needed."""
        flat = f"{indent}{prefix}{doc.flat()}{suffix}"
        if self.fits(flat) or isinstance(doc, Text):
            return [flat]
        if isinstance(doc, Union):
            first = f"{indent}{prefix}{doc.head}{doc.members[0].flat()}"
            others = [f"{indent}| {member.flat()}" for member in doc.members[1:]]
            split = [first, *others]
            split[-1] += f"{doc.tail}{suffix}"
            return split
        if not doc.items:
            return [flat]
        head = doc.head if isinstance(doc.head, str) else doc.head.flat()
        opening = f"{indent}{prefix}{head}{doc.open}"
        if not self.fits(opening) and isinstance(doc.head, Bracketed):
            *head_lines, head_end = self.lines(doc.head, indent, prefix, doc.open)
            rest = replace(doc, head=head_end[len(indent) : len(head_end) - len(doc.open)])
            return [*head_lines, *self.lines(rest, indent, suffix=suffix)]
        closing = f"{indent}{doc.close}{doc.tail}{suffix}"
        return [opening, *self._contents(doc, indent + INDENT), closing]

    def _contents(self, doc: Bracketed, indent: str) -> list[str]:
        if not doc.collection:
            hugged = f"{indent}{', '.join(item.flat() for item in doc.items)}"
            if self.fits(hugged):
                return [hugged]
            if len(doc.items) == 1:
                return self.lines(doc.items[0], indent)
        return [line for item in doc.items for line in self.lines(item, indent, suffix=",")]

    def signature(
        self,
        indent: str,
        head: str,
        params: Sequence[Doc],
        returns: Doc,
        tail: str = ":",
    ) -> list[str]:
        """``head(params) -> returns`` + ``tail``: a ``def`` line, wrapped."""
        flat_params = ", ".join(param.flat() for param in params)
        flat = f"{indent}{head}({flat_params}) -> {returns.flat()}{tail}"
        if self.fits(flat):
            return [flat]
        inner = indent + INDENT
        hugged = f"{inner}{flat_params}"
        if len(params) > 1 and self.fits(hugged):
            body = [hugged]
        else:
            body = [line for param in params for line in self.lines(param, inner, suffix=",")]
        closing = f"{indent}) -> {returns.flat()}{tail}"
        if isinstance(returns, Union) and not self.fits(closing):
            members = self.lines(returns, indent + INDENT)
            return [f"{indent}{head}(", *body, f"{indent}) -> (", *members, f"{indent}){tail}"]
        return [f"{indent}{head}(", *body, *self.lines(returns, indent, ") -> ", tail)]
