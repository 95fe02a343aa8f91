"""`Record`: a frozen record class made without generated code, the base of the event kinds.

A subclass declares its fields as a frozen dataclass would (annotations, defaults after the fields
without one) and gets what those records use of dataclasses: construction by position or by name,
defaults, `==`, `hash`, `repr`, frozen instances and `__match_args__`; `dataclass_transform` tells
the type checker the same. Why not `@dataclass`: it generates and compiles each class's methods at
import, and every run, the no-op too, imports all the event kinds (`bench/event_kinds.py` measures
both). A field is a non-ClassVar annotation written in the class itself or in a parent record.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from typing import dataclass_transform
else:  # Python 3.10 has no typing.dataclass_transform; at run time it only marks the class

    def dataclass_transform(**_: object) -> Any:
        return lambda cls: cls


@dataclass_transform(frozen_default=True)
class Record:
    """A frozen record: subclasses declare fields, `Record` makes and compares their instances."""

    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, object]] = {}

    def __init_subclass__(cls) -> None:
        hints = inspect.get_annotations(cls)  # this class's own fields, in the order written
        own = tuple(name for name, hint in hints.items() if not str(hint).startswith("ClassVar"))
        cls._fields = (*cls._fields, *own)
        defaults = {name: cls.__dict__[name] for name in own if name in cls.__dict__}
        cls._defaults = {**cls._defaults, **defaults}
        setattr(cls, "__match_args__", cls._fields)  # noqa: B010 (mypy cannot see a class-level assignment here)

    def __init__(self, *args: object, **kwargs: object) -> None:
        name = type(self).__name__
        if len(args) > len(self._fields):
            raise TypeError(f"{name} takes {len(self._fields)} fields, got {len(args)}")
        values = dict(zip(self._fields, args, strict=False))  # the rest by name or default
        for field in self._fields[len(args) :]:
            if field in kwargs:
                values[field] = kwargs.pop(field)
            elif field in self._defaults:
                values[field] = self._defaults[field]
            else:
                raise TypeError(f"{name} needs {field}")
        if kwargs:
            raise TypeError(f"{name} has no field {', '.join(kwargs)}")
        self.__dict__.update(values)

    if not TYPE_CHECKING:  # frozen at run time; the type checker knows it from dataclass_transform

        def __setattr__(self, name: str, value: object) -> None:
            raise AttributeError(f"{type(self).__name__} is frozen: cannot set {name}")

        def __delattr__(self, name: str) -> None:
            raise AttributeError(f"{type(self).__name__} is frozen: cannot delete {name}")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), *self.__dict__.values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.__dict__.items())
        return f"{type(self).__name__}({fields})"

    def non_default_fields(self) -> dict[str, object]:
        """The fields that are neither None nor left at their default, in the order declared."""
        return {
            name: value
            for name, value in self.__dict__.items()
            if value is not None and (name not in self._defaults or value != self._defaults[name])
        }
