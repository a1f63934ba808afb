"""Space: the service-area box, demand zones, and a detour factor where the log allows one.

Zones are k-means clusters (scipy's `kmeans2`) of pickups in local metres,
k chosen by BIC under a spherical Gaussian per cluster; each becomes a disc
of the simulator (centre, radius sqrt(2 * mean squared distance), which is
exact for a uniform disc, weight = share of pickups). Clusters with fewer
than `MIN_ZONE_ORDERS` pickups are dropped, and centres and the box are
rounded to 0.001 degrees, so no single customer's point is ever written out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.cluster.vq import kmeans2

from simulator.calibration.evidence import Estimate, Floats, LogArrays

EARTH_RADIUS_M = 6_371_008.8
MIN_ZONE_ORDERS = 50
MAX_ZONES = 8


@dataclass(frozen=True, slots=True)
class SpaceFit:
    box: Estimate  # value: (south, west, north, east)
    zones: Estimate  # value: list of zone dicts
    detour_factor: Estimate
    points: Floats  # (n, 2) local metres, for the report's density map only
    labels: Floats
    ref: tuple[float, float] = (0.0, 0.0)

    def to_metres(self, lat: float, lon: float) -> Floats:
        result: Floats = _metres(np.array([lat]), np.array([lon]), self.ref)[0]
        return result


def _metres(lat: Floats, lon: Floats, ref: tuple[float, float]) -> Floats:
    k = math.pi / 180 * EARTH_RADIUS_M
    return np.column_stack([(lon - ref[1]) * k * math.cos(math.radians(ref[0])), (lat - ref[0]) * k])


def _degrees(xy: Floats, ref: tuple[float, float]) -> tuple[Floats, Floats]:
    k = math.pi / 180 * EARTH_RADIUS_M
    return xy[:, 1] / k + ref[0], xy[:, 0] / (k * math.cos(math.radians(ref[0]))) + ref[1]


def _bic(xy: Floats, centres: Floats, labels: Floats) -> float:
    n, k = len(xy), len(centres)
    sq = np.sum((xy - centres[labels]) ** 2, axis=1)
    ll = 0.0
    for j in range(k):
        mine = labels == j
        m = int(mine.sum())
        if m == 0:
            return math.inf
        var = max(float(sq[mine].mean()) / 2, 1.0)
        ll += m * math.log(m / n) - m * math.log(2 * math.pi * var) - sq[mine].sum() / (2 * var)
    return -2 * ll + (3 * k) * math.log(n)


def _cluster(xy: Floats) -> tuple[Floats, Floats]:
    best: tuple[float, Floats, Floats] | None = None
    for k in range(1, min(MAX_ZONES, len(xy) // MIN_ZONE_ORDERS) + 1):
        centres, labels = kmeans2(xy, k, minit="++", seed=np.random.default_rng(k), iter=30)
        score = _bic(xy, centres, labels)
        if best is None or score < best[0]:
            best = (score, centres, labels)
    assert best is not None
    return best[1], best[2]


def _zones(xy: Floats, centres: Floats, labels: Floats, ref: tuple[float, float]) -> list[dict[str, object]]:
    """Clusters as the simulator's discs, largest first; too small ones are left out."""
    zones: list[dict[str, object]] = []
    for j in np.argsort(-np.bincount(labels, minlength=len(centres))):
        mine = labels == j
        if mine.sum() < MIN_ZONE_ORDERS:
            continue
        msd = float(np.mean(np.sum((xy[mine] - centres[j]) ** 2, axis=1)))
        c_lat, c_lon = _degrees(centres[j : j + 1], ref)
        zones.append(
            {
                "name": f"zone {len(zones) + 1}",
                "lat": round(float(c_lat[0]), 3),
                "lon": round(float(c_lon[0]), 3),
                "radius_m": round(math.sqrt(2 * msd), -1),
                "weight": round(float(mine.mean()), 3),
            }
        )
    return zones


def fit_space(log: LogArrays) -> SpaceFit:
    lat, lon = log.lat, log.lon
    south, north = np.quantile(lat, [0.005, 0.995])
    west, east = np.quantile(lon, [0.005, 0.995])
    box = tuple(round(float(v), 3) for v in (south - 0.005, west - 0.005, north + 0.005, east + 0.005))
    source = log.source(log.n, "pickups")
    ref = ((south + north) / 2, (west + east) / 2)
    xy = _metres(lat, lon, ref)
    detour = fit_detour(log)
    if log.n < MIN_ZONE_ORDERS:
        zone = [
            {
                "name": "all",
                "lat": round(float(np.median(lat)), 3),
                "lon": round(float(np.median(lon)), 3),
                "radius_m": 2000.0,
                "weight": 1.0,
            }
        ]
        return SpaceFit(
            Estimate(box, source),
            Estimate.fallback(zone, "too few pickups for zones"),
            detour,
            xy,
            np.zeros(log.n),
            ref,
        )
    centres, labels = _cluster(xy)
    zones = _zones(xy, centres, labels, ref)
    return SpaceFit(
        Estimate(box, f"0.5%..99.5% of {source.removeprefix('from ')}"),
        Estimate(zones, f"k-means of pickups, k by BIC; zones of >= {MIN_ZONE_ORDERS} pickups, {source}"),
        detour,
        xy,
        labels,
        ref,
    )


def haversine_m(lat1: Floats, lon1: Floats, lat2: Floats, lon2: Floats) -> Floats:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    result: Floats = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(h))
    return result


def fit_detour(log: LogArrays, speed_kmh: float = 30.0) -> Estimate:
    """Road distance / straight line at the scenario's speed, if trip times follow distance at all."""
    done = log.completed & np.isfinite(log.drop_lat) & np.isfinite(log.picked_up) & np.isfinite(log.ended)
    if done.sum() < 30:
        return Estimate.fallback(1.3, "no drop-offs with trip times")
    dist = haversine_m(log.lat[done], log.lon[done], log.drop_lat[done], log.drop_lon[done])
    secs = log.ended[done] - log.picked_up[done]
    far = dist > 200
    corr = stats.pearsonr(dist[far], secs[far]) if far.sum() >= 30 else None
    if corr is None or corr.statistic < 0.3 or corr.pvalue > 0.01:
        return Estimate.fallback(1.3, "trip times do not follow straight-line distance in this log")
    ratio = secs[far] * speed_kmh / 3.6 / dist[far]
    ci = stats.bootstrap((ratio,), np.median, n_resamples=200, random_state=1).confidence_interval
    return Estimate(
        max(float(np.median(ratio)), 1.0),
        f"median trip time x {speed_kmh:g} km/h / straight line, "
        + log.source(int(far.sum()), "trips with drop-offs"),
        ci.low,
        ci.high,
    )
