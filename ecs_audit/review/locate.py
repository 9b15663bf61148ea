"""Parsing JSON and YAML while keeping the line and column of every key, so a finding can point at
the offending field (SARIF physical locations).

JSON is read by a small recursive-descent parser that also accepts ecspresso's Go template actions
(`{{ must_env `TAG` }}`) where a value stands. YAML is composed into nodes (whose marks hold the
positions) and built by hand, so CloudFormation short tags (!Ref, !Sub, !GetAtt...) load as
`Unresolved` values instead of failing.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(frozen=True)
class Unresolved:
    """A value the file does not fix: a template action, an intrinsic function, a plan's unknown."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Parsed:
    value: Any
    positions: dict[KeyPath, Position]


class ParseError(ValueError):
    def __init__(self, message: str, position: Position | None = None):
        super().__init__(message if position is None else f"line {position.line}, column {position.column}: {message}")


_TEMPLATE = re.compile(r"\{\{.*?\}\}", re.S)
_CONTROL = re.compile(r"\{\{-?\s*(if|range|with|define|template|block|else|end)\b")
_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?")
_WS = " \t\r\n"


def template_actions(text: str) -> list[str]:
    return [m.group(0) for m in _TEMPLATE.finditer(text)]


def has_control_actions(text: str) -> bool:
    return bool(_CONTROL.search(text))


class _JsonReader:
    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
        self.positions: dict[KeyPath, Position] = {}

    def pos(self, index: int) -> Position:
        line = bisect.bisect_right(self.starts, index) - 1
        return Position(line + 1, index - self.starts[line] + 1)

    def skip(self, i: int) -> int:
        while i < len(self.text) and self.text[i] in _WS:
            i += 1
        return i

    def parse(self) -> Any:
        i = self.skip(0)
        value, i = self.value(i, ())
        i = self.skip(i)
        if i != len(self.text):
            raise ParseError("extra data after the document", self.pos(i))
        return value

    def value(self, i: int, path: KeyPath) -> tuple[Any, int]:
        self.positions.setdefault(path, self.pos(i))
        if i >= len(self.text):
            raise ParseError("unexpected end of the document", self.pos(i))
        ch = self.text[i]
        if ch == "{" and self.text.startswith("{{", i):
            end = self.text.find("}}", i)
            if end < 0:
                raise ParseError("unclosed template action", self.pos(i))
            return Unresolved(self.text[i : end + 2]), end + 2
        if ch == "{":
            return self.obj(i, path)
        if ch == "[":
            return self.arr(i, path)
        if ch == '"':
            try:
                text, end = json.decoder.scanstring(self.text, i + 1)
            except json.JSONDecodeError as exc:
                raise ParseError(exc.msg, self.pos(exc.pos)) from None
            return (Unresolved(text) if _TEMPLATE.search(text) else text), end
        for literal, result in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(literal, i):
                return result, i + len(literal)
        match = _NUMBER.match(self.text, i)
        if match:
            token = match.group(0)
            return (float(token) if match.group(2) or match.group(3) else int(token)), match.end()
        raise ParseError(f"unexpected character {ch!r}", self.pos(i))

    def obj(self, i: int, path: KeyPath) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        i = self.skip(i + 1)
        if i < len(self.text) and self.text[i] == "}":
            return out, i + 1
        while True:
            i = self.skip(i)
            if i >= len(self.text) or self.text[i] != '"':
                raise ParseError("expected a quoted key", self.pos(i))
            key_at = i
            try:
                key, i = json.decoder.scanstring(self.text, i + 1)
            except json.JSONDecodeError as exc:
                raise ParseError(exc.msg, self.pos(exc.pos)) from None
            self.positions[(*path, key)] = self.pos(key_at)
            i = self.skip(i)
            if i >= len(self.text) or self.text[i] != ":":
                raise ParseError("expected ':'", self.pos(i))
            value, i = self.value(self.skip(i + 1), (*path, key))
            out[key] = value
            i = self.skip(i)
            if i < len(self.text) and self.text[i] == ",":
                i += 1
                continue
            if i < len(self.text) and self.text[i] == "}":
                return out, i + 1
            raise ParseError("expected ',' or '}'", self.pos(i))

    def arr(self, i: int, path: KeyPath) -> tuple[list[Any], int]:
        out: list[Any] = []
        i = self.skip(i + 1)
        if i < len(self.text) and self.text[i] == "]":
            return out, i + 1
        while True:
            i = self.skip(i)
            value, i = self.value(i, (*path, len(out)))
            out.append(value)
            i = self.skip(i)
            if i < len(self.text) and self.text[i] == ",":
                i += 1
                continue
            if i < len(self.text) and self.text[i] == "]":
                return out, i + 1
            raise ParseError("expected ',' or ']'", self.pos(i))


def parse_json(text: str) -> Parsed:
    reader = _JsonReader(text)
    return Parsed(reader.parse(), reader.positions)


class _Loader(yaml.SafeLoader):
    pass


def parse_yaml(text: str) -> Parsed:
    """YAML with positions; a node tagged with a local tag (CloudFormation's !Ref, !Sub...) becomes
    Unresolved("!Tag value")."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ParseError(str(exc.problem or exc), Position(mark.line + 1, mark.column + 1) if mark else None) from None
    except yaml.YAMLError as exc:
        raise ParseError(str(exc)) from None
    positions: dict[KeyPath, Position] = {}
    constructor = yaml.SafeLoader("")

    def build(node: yaml.Node, path: KeyPath) -> Any:
        positions.setdefault(path, Position(node.start_mark.line + 1, node.start_mark.column + 1))
        if node.tag.startswith("!") and not node.tag.startswith("!!"):
            inner = node.value if isinstance(node, yaml.ScalarNode) else build_plain(node, path)
            return Unresolved(f"{node.tag} {json.dumps(inner, default=str) if not isinstance(inner, str) else inner}".strip())
        return build_plain(node, path)

    def build_plain(node: yaml.Node, path: KeyPath) -> Any:
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(constructor.construct_object(key_node, deep=True)) if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
                positions[(*path, key)] = Position(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                out[key] = build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [build(item, (*path, index)) for index, item in enumerate(node.value)]
        try:
            return constructor.construct_object(node, deep=True)
        except yaml.YAMLError:
            return node.value

    if node is None:
        return Parsed(None, {})
    return Parsed(build(node, ()), positions)


def position_of(positions: dict[KeyPath, Position], path: KeyPath) -> Position | None:
    """The position of `path`, or of its nearest recorded ancestor."""
    while True:
        if path in positions:
            return positions[path]
        if not path:
            return None
        path = path[:-1]
