"""The line layout agrees with ``ruff format`` on random statements of the generated shapes."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest
from codegen_helpers import ruff

from codegen.layout import Bracketed, Doc, Layout, Text, Union

SEEDS = range(300)
WIDTHS = (60, 79, 88, 100, 120)


def _name(rng: random.Random, low: int = 1, high: int = 30) -> str:
    return "x" + "".join(rng.choice("abcdefghij") for _ in range(rng.randint(low, high)))


def _type(rng: random.Random, depth: int = 0) -> Doc:
    roll = rng.random()
    if depth == 0 and roll < 0.2:
        members = tuple(_type(rng, 2) for _ in range(rng.randint(2, 4)))
        return Union((*members, Text("None")) if rng.random() < 0.5 else members)
    if depth > 1 or roll < 0.5:
        return Text(_name(rng).capitalize())
    if roll < 0.75:
        values = tuple(Text(f'"{_name(rng)}"') for _ in range(rng.randint(1, 5)))
        return Bracketed("Literal", "[", values, "]")
    args = tuple(_type(rng, depth + 1) for _ in range(rng.randint(1, 4)))
    return Bracketed(_name(rng).capitalize(), "[", args, "]")


def _prefixed(doc: Doc, head: str, tail: str = "") -> Doc:
    if isinstance(doc, Text):
        return Text(head + doc.text + tail)
    if isinstance(doc, Union):
        return Union(doc.members, head + doc.head, doc.tail + tail)
    assert isinstance(doc.head, str)
    return Bracketed(head + doc.head, doc.open, doc.items, doc.close, doc.tail + tail)


def _method(rng: random.Random, layout: Layout) -> list[str]:
    params: list[Doc] = [Text("self")]
    has_default = False
    for _ in range(rng.randint(0, 5)):
        has_default = has_default or rng.random() < 0.3
        default = rng.choice([" = None", ' = "x"']) if has_default else ""
        params.append(_prefixed(_type(rng), f"{_name(rng)}: ", default))
    if rng.random() < 0.5:
        params += [Text("*"), Text("_broker_timeout: float = 30.0")]
    lines = layout.signature("    ", f"async def {_name(rng)}", params, _type(rng))
    named = tuple(Text(f'"{_name(rng)}": {_name(rng)}') for _ in range(rng.randint(0, 6)))
    positional = tuple(Text(_name(rng)) for _ in range(rng.randint(0, 2)))
    call = Bracketed(
        "return await self._call",
        "(",
        (
            Text("_" + _name(rng).upper()),
            Bracketed("", "(", positional, ")", collection=True, single_comma=True),
            Bracketed("", "{", named, "}", collection=True),
            Text("_broker_timeout"),
        ),
        ")",
    )
    return lines + layout.lines(call, "        ")


def _module(rng: random.Random, layout: Layout) -> str:
    base = Bracketed(_name(rng, 5), "[", tuple(Text(_name(rng, 5)) for _ in range(4)), "]")
    lines = layout.lines(Bracketed(f"class {_name(rng, 5)}", "(", (base,), ")", ":"))
    lines.append('    """Doc."""')
    for _ in range(4):
        lines.append("")
        lines += _method(rng, layout)
    lines += ["", ""]
    for _ in range(4):
        params = tuple(_prefixed(_type(rng), f'"{_name(rng)}": ') for _ in range(rng.randint(0, 4)))
        head = Bracketed(f"_{_name(rng).upper()} = Operation", "[", (_type(rng),), "]")
        arguments = (
            Text('"M"'),
            Text(f'"{_name(rng)}"'),
            Text('"0123456789abcdef"'),
            Bracketed("", "{", params, "}", collection=True),
            _type(rng),
        )
        lines += layout.lines(Bracketed(head, "(", arguments, ")"))
    entries = tuple(
        Bracketed(
            "",
            "(",
            (Text(f'"{_name(rng)}"'), Text(f'"{_name(rng)}"')),
            ")",
            ': "0123456789abcdef"',
            collection=True,
        )
        for _ in range(rng.randint(1, 3))
    )
    lines += layout.lines(Bracketed("MANIFEST = ", "{", entries, "}", collection=True))
    proxies = tuple(Text(f'"{_name(rng)}": {_name(rng)}') for _ in range(rng.randint(1, 4)))
    registration = Bracketed(
        "register_generated_module",
        "(",
        (Text("MANIFEST"), Bracketed("", "{", proxies, "}", collection=True)),
        ")",
    )
    lines += layout.lines(registration)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("width", WIDTHS)
def test_layout_matches_ruff_format(tmp_path: Path, width: int) -> None:
    folder = tmp_path / str(width)
    folder.mkdir()
    for seed in SEEDS:
        rng = random.Random(seed * 7919 + width)
        (folder / f"case_{seed}.py").write_text(_module(rng, Layout(width)))
    result = subprocess.run(
        [ruff(), "format", "--isolated", "--line-length", str(width), "--check", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[:4000]
