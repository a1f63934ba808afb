"""Scenario keys changed for one study: `fleet.cars=220`, `dispatch.max_head_start_s=600`.

A frontier point or a sweep value is a scenario with a few keys replaced, so
what the simulator ran is always a scenario an analyst could have written
(and the report prints those keys). Keys are the TOML file's dotted paths,
with `[i]` for a list item (`fleet.shifts[1].hours`); a bare key is a
`[policies]` key if there is one of that name (as `PolicySpec` params always
were), else a top-level key (`horizon_days`). Values are TOML values
(`220`, `0.5`, `"zone"`, `true`, `[0.5, 0.5]`), and the changed scenario is
validated like the file, every problem naming the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from typing import Any

from simulator.scenario import Policies, Scenario, ScenarioError, validate_scenario

_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")
_BRACKETS = {"[": "]", "{": "}"}


def parse_value(text: str) -> Any:
    """A TOML value; anything TOML cannot read is taken as a plain string."""
    try:
        return tomllib.loads(f"value = {text.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        return text.strip()


def split_values(text: str) -> list[str]:
    """Split on commas that are not inside brackets, braces or quotes."""
    parts, depth, quote, current = [], 0, "", ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in _BRACKETS:
            depth += 1
        elif char in _BRACKETS.values():
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    return [part.strip() for part in [*parts, current] if part.strip()]


def parse_vary(spec: str) -> tuple[str, list[Any]]:
    """`KEY=V1,V2,...` -> (key, values); a clear error for anything else."""
    key, sep, values = spec.partition("=")
    if not sep or not key.strip() or not split_values(values):
        raise ValueError(f"--vary {spec!r}: expected KEY=V1,V2,... (e.g. fleet.cars=200,240)")
    path(key.strip())
    return key.strip(), [parse_value(value) for value in split_values(values)]


def path(key: str) -> list[str | int]:
    """`fleet.shifts[1].hours` -> ["fleet", "shifts", 1, "hours"]; `reserve_k` -> policies."""
    parts: list[str | int] = []
    for piece in (f"policies.{key}" if key in Policies.model_fields else key).split("."):
        match = _PART.fullmatch(piece)
        if match is None:
            raise ValueError(f"{key!r} is not a scenario key (use dotted TOML paths, "
                             f"e.g. fleet.cars or fleet.shifts[0].hours)")
        parts.append(match.group(1))
        parts += [int(index) for index in re.findall(r"\[(\d+)\]", match.group(2))]
    return parts


def with_overrides(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """The scenario with every key replaced, validated like the TOML file."""
    if not overrides:
        return scenario
    raw = scenario.model_dump()
    for key, value in overrides.items():
        _set(raw, path(key), value, key)
    return validate_scenario(raw, f"{scenario.name} with {_shown(overrides)}")


def _set(tree: Any, parts: list[str | int], value: Any, key: str) -> None:
    node = tree
    for part in parts[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            raise ScenarioError([f"{key}: no such scenario key"]) from None
    last = parts[-1]
    if isinstance(last, int) and not (isinstance(node, list) and last < len(node)):
        raise ScenarioError([f"{key}: no such list item"])
    node[last] = value


def _shown(overrides: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in overrides.items())
