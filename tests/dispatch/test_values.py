from __future__ import annotations

import dataclasses
import pickle
import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy_api

from dispatch.decisions import OrderAssigned
from dispatch.model import Position


def test_a_record_is_a_value_equal_hashable_and_picklable() -> None:
    """Equality and the hash are over the fields, as a frozen dataclass's are."""
    made = OrderAssigned("o1", "d1", 60.0, 500.0, 10.0)
    assert made == OrderAssigned("o1", "d1", 60.0, 500.0, 10.0, manual=False)
    assert made != OrderAssigned("o1", "d1", 60.0, 500.0, 10.0, manual=True)
    assert hash(made) == hash(OrderAssigned("o1", "d1", 60.0, 500.0, 10.0))
    assert hash(Position(50.0, 19.9)) == hash((50.0, 19.9))  # what a frozen one hashed
    assert {Position(1.0, 2.0): "x"}[Position(1.0, 2.0)] == "x"
    assert pickle.loads(pickle.dumps(made)) == made
    assert dataclasses.replace(made, eta_s=1.0).eta_s == 1.0 and made.eta_s == 60.0
    assert dataclasses.asdict(Position(1.0, 2.0)) == {"lat": 1.0, "lon": 2.0}
    assert not hasattr(made, "__dict__")  # slotted
    with pytest.raises(TypeError):
        OrderAssigned("o1", "d1")  # type: ignore[call-arg]


def test_the_type_checker_refuses_to_change_a_record(tmp_path: Path) -> None:
    """The immutability a frozen dataclass enforced at run time, mypy --strict enforces on
    every module CI checks; a changed copy goes through dataclasses.replace."""
    source = tmp_path / "mutates.py"
    source.write_text(textwrap.dedent("""
        import dataclasses
        from dispatch.model import Position

        p = Position(1.0, 2.0)
        p.lat = 3.0
        q = dataclasses.replace(p, lat=3.0)
    """))
    out, _, status = mypy_api.run(["--strict", "--no-incremental", "--follow-imports=silent",
                                   str(source)])
    assert status == 1
    assert 'mutates.py:6: error: Property "lat" defined in "Position" is read-only' in out
    assert out.count("error:") == 1  # the replace is fine
