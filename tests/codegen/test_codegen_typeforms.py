"""Type hints -> source text and imports (in process: no service is loaded)."""

from __future__ import annotations

import collections.abc
import datetime as dt
import enum
import subprocess
import typing
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, NewType, Optional, Union

import annotated_types
import pytest
from codegen_helpers import ruff
from pydantic import (
    AfterValidator,
    Base64Bytes,
    Base64Encoder,
    BaseModel,
    EncodedBytes,
    Field,
    PlainSerializer,
)

from codegen import ir
from codegen.imports import import_block, plan_imports, symbols_in
from codegen.layout import Layout
from codegen.style import CodeStyle
from codegen.typeforms import TypeConverter, UnsupportedType, string_literal
from core_sdk.data_access import Page


class Color(enum.Enum):
    RED = "red"


class Perm(enum.IntFlag):
    READ = 1
    WRITE = 2


class Item(BaseModel):
    class Part(BaseModel):
        x: int


Ident = NewType("Ident", int)
T = typing.TypeVar("T")
HERE = __name__


def spelled(hint: object, *, class_scope: tuple[str, ...] = ()) -> tuple[str, list[str]]:
    """(source text, import lines) for one hint."""
    expr = TypeConverter().type_expr(hint)
    plan = plan_imports([], [], set(symbols_in(expr)), [], class_scope)
    lines = import_block(plan.statements, CodeStyle(), Layout(100))
    return plan.spell(expr), [line for line in lines if line]


@pytest.mark.parametrize(
    ("hint", "text", "imports"),
    [
        (int, "int", []),
        (None, "None", []),
        (type(None), "None", []),
        (Any, "Any", ["from typing import Any"]),
        (Optional[int], "int | None", []),  # noqa: UP045
        (Union[int, str], "int | str", []),  # noqa: UP007
        (int | None, "int | None", []),
        (list[int], "list[int]", []),
        (typing.List[int], "list[int]", []),  # noqa: UP006
        (dict[str, float], "dict[str, float]", []),
        (set[str], "set[str]", []),
        (frozenset[int], "frozenset[int]", []),
        (tuple[int, str], "tuple[int, str]", []),
        (tuple[int, ...], "tuple[int, ...]", []),
        (tuple[()], "tuple[()]", []),
        (
            typing.Sequence[int],
            "Sequence[int]",
            ["from collections.abc import Sequence"],
        ),
        (
            collections.abc.Mapping[str, int],
            "Mapping[str, int]",
            ["from collections.abc import Mapping"],
        ),
        (
            collections.abc.Iterable[str],
            "Iterable[str]",
            ["from collections.abc import Iterable"],
        ),
        (
            Literal["a", 1, True, None],
            'Literal["a", 1, True, None]',
            ["from typing import Literal"],
        ),
        (
            Literal[Color.RED],
            "Literal[Color.RED]",
            ["from typing import Literal", f"from {HERE} import Color"],
        ),
        (Color, "Color", [f"from {HERE} import Color"]),
        (uuid.UUID, "UUID", ["from uuid import UUID"]),
        (dt.datetime, "datetime", ["from datetime import datetime"]),
        (dt.date, "date", ["from datetime import date"]),
        (dt.time, "time", ["from datetime import time"]),
        (dt.timedelta, "timedelta", ["from datetime import timedelta"]),
        (Decimal, "Decimal", ["from decimal import Decimal"]),
        (Item, "Item", [f"from {HERE} import Item"]),
        (Item.Part, "Item.Part", [f"from {HERE} import Item"]),
        (
            Page[Item],
            "Page[Item]",
            ["from core_sdk.data_access import Page", f"from {HERE} import Item"],
        ),
        (Ident, "Ident", [f"from {HERE} import Ident"]),
        (
            Annotated[int, annotated_types.Gt(0)],
            "Annotated[int, Gt(gt=0)]",
            ["from typing import Annotated", "from annotated_types import Gt"],
        ),
        (
            Annotated[str, Field(max_length=3, description="short")],
            'Annotated[str, Field(description="short"), MaxLen(max_length=3)]',
            [
                "from typing import Annotated",
                "from annotated_types import MaxLen",
                "from pydantic import Field",
            ],
        ),
        (Annotated[int, "meta", 3], 'Annotated[int, "meta", 3]', ["from typing import Annotated"]),
        (Annotated[int, AfterValidator(abs)], "int", []),  # dropped (see the notes)
        (typing.Never, "Never", ["from typing import Never"]),
        (Base64Bytes, "Base64Bytes", ["from pydantic import Base64Bytes"]),
        (
            Annotated[bytes, EncodedBytes(encoder=Base64Encoder), "raw"],
            'Annotated[bytes, EncodedBytes(encoder=Base64Encoder), "raw"]',
            ["from typing import Annotated", "from pydantic import Base64Encoder, EncodedBytes"],
        ),
    ],
    ids=lambda value: str(value)[:40],
)
def test_type_forms(hint: object, text: str, imports: list[str]) -> None:
    source, lines = spelled(hint)
    assert (source, sorted(lines)) == (text, sorted(imports))  # order: see the ruff tests


def test_dropped_metadata_is_noted() -> None:
    converter = TypeConverter()
    assert converter.type_expr(Annotated[int, AfterValidator(abs)]) == ir.Name(
        ir.Symbol("builtins", "int")
    )
    [note] = converter.notes
    assert "is not expressible as source" in note and "AfterValidator" in note


@pytest.mark.parametrize(
    ("hint", "reason"),
    [
        (list, "has no type arguments"),
        (collections.abc.Sequence, "has no type arguments"),
        (T, "type variable T is not bound"),
        (typing.Self, "Self cannot be expressed"),
        (collections.abc.Callable[[int], int], "callables cannot be sent"),
        ("Forward", "unresolved forward reference"),
        (Page, "has no type arguments"),
        (bytes, "bytes cannot be sent faithfully.*use pydantic's Base64Bytes"),
        (list[bytes], "bytes cannot be sent faithfully"),
        (type[BaseModel], "classes"),
        (typing.Type[int], "classes"),  # noqa: UP006
        (Annotated[int, PlainSerializer(lambda v: v)], "changes how the value is serialised"),
    ],
    ids=str,
)
def test_refused_type_forms(hint: object, reason: str) -> None:
    with pytest.raises(UnsupportedType, match=reason):
        TypeConverter().type_expr(hint)


def test_a_class_defined_in_a_function_is_refused() -> None:
    class Local:
        pass

    with pytest.raises(UnsupportedType, match="defined inside a function"):
        TypeConverter().type_expr(Local)


@pytest.mark.parametrize(
    ("value", "source"),
    [
        (None, "None"),
        (True, "True"),
        (-3, "-3"),
        (0.5, "0.5"),
        ("it's", '"it\'s"'),
        ('say "hi"', "'say \"hi\"'"),
        (b"raw", 'b"raw"'),
        (Color.RED, "Color.RED"),
        ((1, "a"), '(1, "a")'),
        ((1,), "(1,)"),
    ],
)
def test_literal_defaults(value: object, source: str) -> None:
    expr = TypeConverter().value_expr(value)
    assert expr is not None
    plan = plan_imports([], [], set(symbols_in(expr)), [], [])
    assert plan.spell(expr) == source


@pytest.mark.parametrize(
    "value",
    [[], {}, object(), Decimal("1"), float("nan"), dt.date(2020, 1, 1), Perm.READ | Perm.WRITE],
)
def test_defaults_that_are_not_source_are_refused(value: object) -> None:
    assert TypeConverter().value_expr(value) is None


def test_a_method_named_like_a_builtin_shadows_it_in_class_bodies() -> None:
    assert spelled(list[int], class_scope=("list",)) == ("builtins.list[int]", ["import builtins"])
    assert spelled(list[int], class_scope=("list", "builtins")) == (
        "builtins_.list[int]",
        ["import builtins as builtins_"],
    )


def test_colliding_names_are_aliased_deterministically() -> None:
    first = ir.Symbol("svc.a", "Status")
    second = ir.Symbol("svc.b", "Status")
    plan = plan_imports([], [], {second, first}, ["StatusBroker"], [])
    assert plan.spellings == {first: "Status", second: "svc_b_Status"}
    generated = plan_imports([], [], {first}, ["Status"], [])
    assert generated.spellings[first] == "svc_a_Status"


LITERALS = [
    "plain",
    "quote's",
    'dq"',
    "both ' \"",
    "'' \"",
    '"" \'',
    "tab\tnl\n\\",
    "é",
    "\x00\x7f",
    b"raw",
    b"'\"",
    b"''\"",
    b'""\'',
    b"a\\b",
    bytes(range(256)),
]


def test_literals_are_left_alone_by_ruff_format(tmp_path: Path) -> None:
    converter = TypeConverter()
    lines = []
    for value in LITERALS:
        expr = converter.value_expr(value)
        assert isinstance(expr, ir.Constant)
        assert eval(expr.source) == value
        lines.append(f"x = {expr.source}\n")
    (tmp_path / "literals.py").write_text("".join(lines))
    result = subprocess.run(
        [ruff(), "format", "--isolated", "--check", "--diff", "literals.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_string_literals_round_trip() -> None:
    for text in ["plain", "quote's", 'dq"', "both ' \"", "tab\tnl\n\\", "é"]:
        assert eval(string_literal(text)) == text


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_metadata_whose_repr_raises_is_noted_not_a_traceback() -> None:
    converter = TypeConverter()
    assert converter.type_expr(Annotated[int, BadRepr()]) == ir.Name(ir.Symbol("builtins", "int"))
    [note] = converter.notes
    assert "<BadRepr object (its repr() raised)> is not expressible as source" in note
