"""A run pauses CPython's cyclic collector, so a run must make no reference cycles.

`cyclic_gc_paused` is only safe because reference counting frees everything
a run allocates; these tests hold the model to that and check the pause is
undone whatever way the run ends.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from dispatch.policies import POLICY_NAMES
from simulator.api import prepare_scenario
from simulator.kernel import Kernel, cyclic_gc_paused
from simulator.model import Model
from simulator.scenario import Scenario, load_scenario
from simulator.setup import build_dispatcher, build_setup

OUR_PACKAGES = {"simulator", "dispatch", "valuation"}


@pytest.fixture
def collector_on() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def _cyclic_garbage_of_a_run(scenario: Scenario, policy: str) -> list[str]:
    """The type names of whatever the run left that only the cyclic collector could free."""
    setup = build_setup(scenario)
    model = Model(setup, build_dispatcher(setup, policy))
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        model.run()
        gc.collect()
        # Only the run's own objects: in the full suite, threads left by other tests (an
        # event loop shutting down) may drop cyclic garbage of their own meanwhile.
        return sorted({type(garbage).__qualname__ for garbage in gc.garbage
                       if type(garbage).__module__.split(".")[0] in OUR_PACKAGES})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


@pytest.mark.parametrize("policy", POLICY_NAMES)
def test_a_small_town_run_leaves_no_cyclic_garbage(policy: str) -> None:
    assert _cyclic_garbage_of_a_run(load_scenario("small-town"), policy) == []


@pytest.mark.parametrize("policy", ["static_vip", "reserve"])
def test_an_erlang_a_run_leaves_no_cyclic_garbage(policy: str) -> None:
    assert _cyclic_garbage_of_a_run(load_scenario("erlang-a"), policy) == []


@pytest.mark.slow  # ten days of city: the first cycles (a trip and its cancelled arrival) showed on day 8
def test_a_city_run_where_callers_give_up_on_cars_en_route_leaves_no_cyclic_garbage() -> None:
    assert _cyclic_garbage_of_a_run(prepare_scenario("city", days=3.0), "fifo") == []


def test_a_cancelled_event_lets_go_of_its_argument() -> None:
    """A trip holding the handle of its cancelled arrival must not sit in a cycle with it."""

    class Trip:
        arrival: list[object] | None = None

    kernel, trip = Kernel(), Trip()
    trip.arrival = kernel.schedule(5.0, lambda _: None, trip)
    Kernel.cancel(trip.arrival)
    kernel.run()  # the tombstone leaves the heap
    gone = weakref.ref(trip)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        del trip
        assert gone() is None  # freed by reference counting alone
    finally:
        if gc_was_enabled:
            gc.enable()


def _model(hours: float) -> Model:
    scenario = load_scenario("small-town").model_copy(update={"horizon_days": hours / 24, "warmup_days": 0.0})
    setup = build_setup(scenario)
    return Model(setup, build_dispatcher(setup, "fifo"))


def test_the_collector_is_paused_while_the_model_runs_and_resumes_after(collector_on: None) -> None:
    model, seen = _model(2.0), []
    model.kernel.schedule(60.0, lambda _: seen.append(gc.isenabled()), None)
    model.run()
    assert seen == [False]
    assert gc.isenabled()


def test_a_run_that_raises_still_resumes_the_collector(collector_on: None) -> None:
    model = _model(2.0)

    def fail(_: None) -> None:
        raise RuntimeError("a model bug")

    model.kernel.schedule(60.0, fail, None)
    with pytest.raises(RuntimeError, match="a model bug"):
        model.run()
    assert gc.isenabled()


def test_a_collector_paused_by_the_caller_stays_paused(collector_on: None) -> None:
    gc.disable()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_set_up_pauses_the_collector_leaves_no_cyclic_garbage_and_resumes_it(
    collector_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`build_setup` is paused too (40,000 young customers and histories): it must free what
    it drops by reference counting alone, and give the collector back on."""
    import simulator.setup as setup_module

    seen: list[bool] = []
    real_customers = setup_module.initial_customers

    def watched(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real_customers(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(setup_module, "initial_customers", watched)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        setup = build_setup(prepare_scenario("city", days=1.0))
        gc.collect()
        garbage = sorted({type(g).__qualname__ for g in gc.garbage
                          if type(g).__module__.split(".")[0] in OUR_PACKAGES})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert seen == [False] and gc.isenabled()
    assert garbage == []
    assert len(setup.customers) > 10_000
