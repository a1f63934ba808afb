"""FreeDriverIndex: exact k-nearest free cars without scanning the fleet."""

from __future__ import annotations

import math
import random
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch import free_index
from dispatch.free_index import FreeDriverIndex
from dispatch.geo import haversine_m, unit_vector
from dispatch.model import Position
from tests.dispatch.geo_cases import brute_force, cell_sizes, cities, offset, offsets_km
from tests.dispatch.polar_case import bucket_reads
from tests.dispatch.test_globe import destination


def test_index_bookkeeping() -> None:
    """upsert adds or moves, remove forgets, and errors are KeyError/ValueError."""
    index = FreeDriverIndex(1000.0)
    index.upsert("a", Position(59.9, 30.3))
    index.upsert("b", Position(59.95, 30.4))
    index.upsert("a", Position(60.1, 30.0))
    assert len(index) == 2 and "a" in index and "zz" not in index
    assert sorted(index) == ["a", "b"]
    assert index.position_of("a") == Position(60.1, 30.0)
    index.remove("a")
    assert "a" not in index and [d for _, d in index.nearest(Position(60.1, 30.0))] == ["b"]
    with pytest.raises(KeyError):
        index.remove("a")
    with pytest.raises(KeyError):
        index.position_of("a")
    with pytest.raises(ValueError, match="k"):
        index.nearest(Position(0, 0), k=0)
    with pytest.raises(ValueError, match="radius_m"):
        index.nearest(Position(0, 0), radius_m=math.nan)
    index.remove("b")
    assert index.nearest(Position(0, 0), k=3) == [] and len(index) == 0


def test_all_drivers_at_one_point() -> None:
    """Many cars on one spot come back nearest first, ties by id, with or without a radius."""
    index = FreeDriverIndex(300.0)
    spot = Position(40.7, -74.0)
    for number in range(20):
        index.upsert(f"d{number:02d}", spot)
    p = offset((40.7, -74.0), 3.0, 4.0)
    hits = index.nearest(p, k=3)
    assert [d for _, d in hits] == ["d00", "d01", "d02"]
    assert hits[0][0] == pytest.approx(5000.0, rel=0.01)
    assert index.nearest(p, k=3, radius_m=4000.0) == []
    assert [d for _, d in index.nearest(spot, k=2, radius_m=0.0)] == ["d00", "d01"]


@pytest.mark.parametrize(("point_lookups", "most_reads"), [(2, 200), (0, 400)])
def test_nearest_does_not_scan_the_whole_fleet(point_lookups: int, most_reads: int) -> None:
    """With cars spread over a city, two k=5 lookups read a few cells of ~4,000 occupied.

    Kept rings (`point_lookups` 0: from the first lookup on) are boxes around the
    query's cell, not its point, which take in about one more ring of cells: a few
    hundred cells here, still a tenth of the occupied ones at most."""
    index = FreeDriverIndex(500.0, point_lookups)
    for number in range(4000):
        east_km, north_km = (number % 63) * 1.5 - 47.0, (number // 63) * 1.5 - 47.0
        index.upsert(f"d{number}", offset((55.75, 37.6), east_km, north_km))
    with bucket_reads(index) as reads:
        assert len(index.nearest(Position(55.75, 37.6), k=5)) == 5
        assert len(index.nearest(Position(55.9, 37.9), k=5, radius_m=2000.0)) >= 1
    assert 0 < reads[0] < most_reads <= index._occupied // 10  # of ~4,000 occupied cells


def test_a_small_fleet_is_scanned_without_reading_cells() -> None:
    """Fewer cars than the search box has cells: the lookup scans the fleet (not its cells), same answer."""
    index = FreeDriverIndex(1000.0)
    cars = {f"d{n}": offset((55.75, 37.6), n * 0.7, -n * 0.4) for n in range(30)}
    for driver_id, where in cars.items():
        index.upsert(driver_id, where)
    p = offset((55.75, 37.6), 3.0, 1.0)
    with bucket_reads(index) as reads:
        assert index.nearest(p, 2, 5000.0) == brute_force(cars, p, 2, 5000.0)
        assert index.nearest(p, 1, 5000.0) == brute_force(cars, p, 1, 5000.0)
    assert reads[0] == 0  # one pass over the fleet, no cell read


fleet_ops = st.lists(
    st.tuples(st.integers(0, 60), st.one_of(offsets_km, st.none(), st.just((0.0, 0.0)))),
    min_size=1,
    max_size=150,
)
queries = st.lists(
    st.tuples(
        offsets_km,
        st.integers(1, 10),
        st.one_of(st.just(math.inf), st.floats(0.0, 20_000.0)),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=250, deadline=None)
@given(cities, cell_sizes, st.sampled_from([1.0, 0.05]), st.sampled_from([0, 1, 2]), fleet_ops, queries)
def test_nearest_equals_brute_force(
    city: tuple[float, float],
    cell_m: float,
    spread: float,
    point_lookups: int,
    ops: list[tuple[int, tuple[float, float] | None]],
    asks: list[tuple[tuple[float, float], int, float]],
) -> None:
    """After random adds, moves and removes, nearest returns exactly the brute-force answer.

    `spread` 1.0 scatters cars over ~100 km (mostly the occupied-cell scan), 0.05 packs
    them into ~5 km so that the box search does the work; `point_lookups` 0 reads a
    cell's kept rings from its first lookup on, 2 the point's own boxes first.
    """
    index = FreeDriverIndex(cell_m, point_lookups)
    drivers: dict[str, Position] = {}
    for number, where in ops:
        driver_id = f"d{number}"
        if where is None:
            if driver_id in drivers:
                index.remove(driver_id)
                del drivers[driver_id]
            continue
        drivers[driver_id] = offset(city, where[0] * spread, where[1] * spread)
        index.upsert(driver_id, drivers[driver_id])
    assert len(index) == len(drivers)
    for p_km, k, radius_m in asks:
        p = offset(city, *p_km)
        assert index.nearest(p, k, radius_m) == brute_force(drivers, p, k, radius_m)


def test_kept_rings_stay_exact_as_the_fleet_grows_and_the_cache_starts_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A ring too big to list while few cells are occupied is listed once the fleet fills
    in, and a cache that starts over (a limit of 3 rings here) changes no answer."""
    monkeypatch.setattr(free_index, "RING_CACHE_LIMIT", 3)
    index = FreeDriverIndex(1000.0, point_lookups=0)
    cars: dict[str, Position] = {}
    queries = [offset((55.75, 37.6), east, north) for east, north in ((0.5, 0.5), (30.0, -20.0))]

    def add(driver_id: str, where: Position) -> None:
        cars[driver_id] = where
        index.upsert(driver_id, where)

    for n in range(70):  # far apart: the boxes that reach a car outgrow the occupied cells
        add(f"far{n}", offset((55.75, 37.6), (n % 10) * 40.0 - 200.0, (n // 10) * 40.0 - 140.0))
    for p in queries:
        assert index.nearest(p, 3) == brute_force(cars, p, 3, math.inf)
    for n in range(2000):  # then a dense fleet around the first query
        add(f"near{n}", offset((55.75, 37.6), (n % 45) * 0.45 - 10.0, (n // 45) * 0.45 - 10.0))
    for p in queries:
        for k, radius_m in ((1, 3000.0), (3, math.inf), (5, 20_000.0)):
            assert index.nearest(p, k, radius_m) == brute_force(cars, p, k, radius_m)
    assert len(index._rings) <= 3


def chord_misorders(p: Position) -> tuple[tuple[Position, Position], tuple[Position, Position]]:
    """Two pairs of cars ~1.2 km from p that squared chords misjudge, found among points on
    that circle: (nearer by haversine_m, nearer by chord) and (a tie by haversine_m: larger
    chord, smaller chord). A chord rounds at about a micrometre here, haversine_m far finer."""
    px, py, pz = unit_vector(p)

    def chord2(q: Position) -> float:
        x, y, z = unit_vector(q)
        return (x - px) ** 2 + (y - py) ** 2 + (z - pz) ** 2

    circle = sorted((destination(p, bearing * 0.137, 1200.0) for bearing in range(2000)),
                    key=lambda q: haversine_m(p, q))
    pairs = list(pairwise(circle))
    inverted = next((a, b) for a, b in pairs
                    if haversine_m(p, a) < haversine_m(p, b) and chord2(a) > chord2(b))
    tied = next((a, b) if chord2(a) > chord2(b) else (b, a) for a, b in pairs
                if haversine_m(p, a) == haversine_m(p, b) and chord2(a) != chord2(b))
    return inverted, tied


@pytest.mark.parametrize("point_lookups", [0, 2])
@pytest.mark.parametrize("far_cars", [0, 60])
def test_the_nearest_car_is_decided_by_haversine_and_id_not_by_chord(
    point_lookups: int, far_cars: int
) -> None:
    """k = 1 (what the matcher asks) picks the car a haversine scan picks where squared chords
    order two cars the other way, where two cars tie (the smaller id), and at the radius's
    edge (a car exactly at the radius counts, one ulp further does not), whether the fleet
    is scanned (few cars) or searched by cells (`far_cars` beyond the box), from points and
    from rings."""
    p = Position(50.06, 19.94)
    inverted, tied = chord_misorders(p)
    for (wanted, chord_nearer), ids in ((inverted, ("i2", "i1")), (tied, ("t1", "t2"))):
        index = FreeDriverIndex(1000.0, point_lookups)
        cars = {ids[0]: wanted, ids[1]: chord_nearer}
        cars.update({f"far{n}": offset((50.06, 19.94), 15.0 + n % 8, (n // 8) * 1.3 - 5.0)
                     for n in range(far_cars)})
        for driver_id, where in cars.items():
            index.upsert(driver_id, where)
        edge = haversine_m(p, wanted)
        for radius_m in (3000.0, 3000.0, edge, math.nextafter(edge, 0.0), 3000.0, math.inf):
            expected = brute_force(cars, p, 1, radius_m)
            assert index.nearest(p, 1, radius_m) == expected
            assert radius_m < edge or [d for _, d in expected] == [ids[0]]


@pytest.mark.parametrize("ring_cache_limit", [3, 1 << 16])
@pytest.mark.parametrize("seed", range(4))
def test_kept_rings_follow_cars_into_and_out_of_their_cells(seed: int, ring_cache_limit: int) -> None:
    """Rings keep their cells' buckets, listed while some of those cells are empty: lookups
    between adds, moves and removes (cars entering cells a kept ring holds empty, leaving
    cells bare) return the brute-force answer, also when the ring cache starts over and
    drops the empty buckets. 300 cars over 4 x 4 km in 250 m cells, radii of a few cells:
    the lookups go through kept rings, not the whole-fleet scan."""
    rng = random.Random(seed)
    index = FreeDriverIndex(250.0, point_lookups=0)
    drivers: dict[str, Position] = {}
    centre = (59.93, 30.31)

    def somewhere() -> Position:
        return offset(centre, rng.uniform(-2.0, 2.0), rng.uniform(-2.0, 2.0))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(free_index, "RING_CACHE_LIMIT", ring_cache_limit)
        for step in range(1500):
            driver_id = f"d{rng.randrange(300)}"
            if driver_id in drivers and rng.random() < 0.4:
                index.remove(driver_id)
                del drivers[driver_id]
            else:
                drivers[driver_id] = somewhere()
                index.upsert(driver_id, drivers[driver_id])
            if step >= 200:
                p, k, radius_m = somewhere(), rng.choice((1, 1, 3)), rng.choice((300.0, 600.0, 900.0))
                assert index.nearest(p, k, radius_m) == brute_force(drivers, p, k, radius_m)
    assert index._occupied == sum(1 for bucket in index._cells.values() if bucket)
