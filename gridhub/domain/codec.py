"""Dataclasses to and from JSON-able dicts, driven by their type hints.

Used by commands, events and the matter state, which all travel over Kafka or live in a
table. :func:`to_jsonable` turns a dataclass (or anything inside one) into dicts, lists,
strings and numbers; :func:`from_jsonable` builds it back and raises :class:`CodecError`
naming the bad field. Datetimes are ISO 8601 strings and must carry a time zone; they come
back as UTC.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

_HINTS: dict[type, dict[str, Any]] = {}


class CodecError(ValueError):
    """A value does not fit its declared type; ``str(err)`` names the field and the problem."""


def to_jsonable(value: Any) -> Any:
    """``value`` as JSON-able data: dataclass → dict, datetime → ISO string, set → sorted list."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(to_jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def hints(cls: type) -> dict[str, Any]:
    """The resolved type hints of dataclass ``cls`` (cached)."""
    found = _HINTS.get(cls)
    if found is None:
        found = typing.get_type_hints(cls)
        _HINTS[cls] = found
    return found


Decoder = Callable[[Any, str], Any]
_DECODERS: dict[Any, Decoder] = {}


def from_jsonable(tp: Any, value: Any, where: str = "body") -> Any:
    """Build a value of type ``tp`` from JSON-able ``value``; raise :class:`CodecError`."""
    return decoder(tp)(value, where)


def decoder(tp: Any) -> Decoder:
    """The function ``(value, where) -> tp`` that :func:`from_jsonable` applies, built once
    per type from its hints (commands and matters are decoded on the stream's hot path, where
    re-reading the type hints of every field of every record cost more than the rest)."""
    found = _DECODERS.get(tp)
    if found is None:
        found = _DECODERS[tp] = _build(tp)
    return found


def _build(tp: Any) -> Decoder:
    if tp is Any:
        return lambda value, where: value
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or origin is types.UnionType:
        return _union([a for a in args if a is not type(None)], type(None) in args)
    if origin is typing.Literal:
        return _literal(args)
    if origin is typing.ClassVar:
        return lambda value, where: value
    if origin in (tuple, list, set, frozenset):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return _fixed_tuple(args)
        return _sequence(origin, args[0] if args else Any)
    if origin in (dict, Mapping) or origin is typing.get_origin(Mapping[str, int]):
        return _mapping(*(args if args else (Any, Any)))
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            return lambda value, where: from_dict(tp, value, where)
        if tp is str:
            return _string
        if tp is datetime:
            return parse_datetime
        return lambda value, where: _from_plain(tp, value, where)

    def unsupported(value: Any, where: str) -> Any:
        raise CodecError(f"{where}: unsupported type {tp!r}")

    return unsupported


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise CodecError(f"{where}: expected a string")
    return value


def _union(options: list[Any], optional: bool) -> Decoder:
    def decode(value: Any, where: str) -> Any:
        if value is None and optional:
            return None
        errors = []
        for option in options:
            try:
                return decoder(option)(value, where)  # decoder(): built lazily, then a dict hit
            except CodecError as exc:
                errors.append(str(exc))
        raise CodecError(errors[0] if len(errors) == 1 else f"{where}: no type fits {value!r}")

    return decode


def _literal(args: tuple[Any, ...]) -> Decoder:
    def decode(value: Any, where: str) -> Any:
        if value not in args:
            raise CodecError(f"{where}: {value!r} is not one of {', '.join(map(str, args))}")
        return value

    return decode


def _fixed_tuple(args: tuple[Any, ...]) -> Decoder:
    def decode(value: Any, where: str) -> Any:
        if not isinstance(value, list | tuple):
            raise CodecError(f"{where}: expected a list")
        if len(args) != len(value):
            raise CodecError(f"{where}: expected {len(args)} items")
        return tuple(
            decoder(a)(v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True))
        )

    return decode


def _sequence(origin: Any, item: Any) -> Decoder:
    make: Callable[[list[Any]], Any] = {list: list, tuple: tuple}.get(origin, frozenset)

    def decode(value: Any, where: str) -> Any:
        if not isinstance(value, list | tuple):
            raise CodecError(f"{where}: expected a list")
        each = decoder(item)
        return make([each(v, f"{where}[{i}]") for i, v in enumerate(value)])

    return decode


def _mapping(kt: Any, vt: Any) -> Decoder:
    def decode(value: Any, where: str) -> Any:
        if not isinstance(value, Mapping):
            raise CodecError(f"{where}: expected an object")
        key, item = decoder(kt), decoder(vt)
        return {key(k, where): item(v, f"{where}.{k}") for k, v in value.items()}

    return decode


def _from_plain(tp: type, value: Any, where: str) -> Any:
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where)
    if issubclass(tp, Enum):
        try:
            return tp(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in tp)
            raise CodecError(f"{where}: {value!r} is not one of {allowed}") from None
    if tp is datetime:
        return parse_datetime(value, where)
    if tp is date:
        if not isinstance(value, str):
            raise CodecError(f"{where}: expected an ISO date string")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise CodecError(f"{where}: {value!r} is not an ISO date") from None
    if tp is bool:
        if not isinstance(value, bool):
            raise CodecError(f"{where}: expected true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CodecError(f"{where}: expected an integer")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CodecError(f"{where}: expected a number")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise CodecError(f"{where}: expected a string")
        return value
    if not isinstance(value, tp):
        raise CodecError(f"{where}: expected {tp.__name__}")
    return value


def parse_datetime(value: Any, where: str = "at") -> datetime:
    """An ISO 8601 string (or datetime) with a time zone, as a UTC datetime."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise CodecError(f"{where}: {value!r} is not an ISO 8601 date-time") from None
    if not isinstance(value, datetime):
        raise CodecError(f"{where}: expected an ISO 8601 date-time string")
    if value.tzinfo is None or value.utcoffset() is None:
        raise CodecError(f"{where}: date-time needs a time zone, e.g. 2026-03-01T08:00:00+08:00")
    return value.astimezone(UTC)


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    """What :func:`from_dict` needs of one dataclass, computed once."""

    names: frozenset[str]
    required: tuple[str, ...]
    fields: tuple[tuple[str, Decoder], ...]  # (name, decoder) of the init fields


_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    found = _PLANS.get(cls)
    if found is None:
        init = [f for f in dataclasses.fields(cls) if f.init]
        type_hints = hints(cls)
        found = _PLANS[cls] = _Plan(
            names=frozenset(f.name for f in init),
            required=tuple(
                f.name
                for f in init
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            ),
            fields=tuple((f.name, decoder(type_hints[f.name])) for f in init),
        )
    return found


def from_dict(cls: type, data: Any, where: str = "body", skip: tuple[str, ...] = ()) -> Any:
    """Build dataclass ``cls`` from a dict; unknown keys and missing required fields are errors.

    Keys named in ``skip`` (e.g. a ``"type"`` tag) are ignored.
    """
    if not isinstance(data, Mapping):
        raise CodecError(f"{where}: expected an object")
    plan = _plan(cls)
    names = plan.names
    for k in data:
        if k not in names and k not in skip:
            raise CodecError(f"{where}: unknown field {k!r}")
    kwargs: dict[str, Any] = {}
    top = where == "body"
    for name, decode in plan.fields:
        if name in data:
            kwargs[name] = decode(data[name], name if top else f"{where}.{name}")
    if len(kwargs) < len(plan.required):
        for name in plan.required:
            if name not in kwargs:
                raise CodecError(f"{name if top else f'{where}.{name}'}: missing")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise CodecError(f"{where}: {exc}") from None


def utc(value: datetime) -> datetime:
    """``value`` converted to UTC (it must be time-zone aware)."""
    return value.astimezone(UTC)
