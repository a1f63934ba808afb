"""Held-out calibration table: model-drawn data is well calibrated decile by decile."""

from __future__ import annotations

import numpy as np
import pytest

from valuation.bgnbd import BgNbd
from valuation.calibration import calibration_table, format_table
from valuation.fit import fit_bgnbd
from valuation.orderlog import rfm_summary
from valuation.params import WEEK_S, ValuationParams
from valuation.synthetic import Population, draw_order_log

CUTOFF_AT, END_AT = 52 * WEEK_S, 78 * WEEK_S


def test_fitted_model_is_calibrated_on_held_out_weeks() -> None:
    """Fit on weeks 0-52, forecast 52-78: predicted and observed agree in every decile."""
    params = ValuationParams(value_half_life_weeks=1e6)
    log = draw_order_log(params, Population(30_000, acquisition_weeks=40.0),
                         np.random.default_rng(21))
    model = fit_bgnbd(rfm_summary(log, CUTOFF_AT))
    rows = calibration_table(log, model, CUTOFF_AT, END_AT)
    assert [r.decile for r in rows] == list(range(1, 11))
    assert sum(r.customers for r in rows) == int(np.sum(rfm_summary(log, CUTOFF_AT).T > 0))
    for row in rows:
        assert row.observed_orders == pytest.approx(row.predicted_orders, rel=0.10, abs=0.045)
        assert row.observed_departed == pytest.approx(row.predicted_departed, abs=0.025)
    assert rows[-1].predicted_orders > rows[0].predicted_orders


def test_miscalibrated_model_shows_in_the_table() -> None:
    """A model with a quarter of the true leaving rate over-predicts orders in every decile."""
    params = ValuationParams(value_half_life_weeks=1e6)
    log = draw_order_log(params, Population(5_000, acquisition_weeks=40.0),
                         np.random.default_rng(22))
    wrong = BgNbd(r=0.5, alpha=2.0, a=0.2, b=10.0)
    rows = calibration_table(log, wrong, CUTOFF_AT, END_AT)
    assert all(r.predicted_orders > 1.3 * r.observed_orders for r in rows[1:])
    assert all(r.predicted_departed < r.observed_departed - 0.02 for r in rows)


def test_table_formats_and_rejects_a_bad_split() -> None:
    """The text table has a header and one line per decile; cutoff must precede the end."""
    log = draw_order_log(ValuationParams(), Population(500), np.random.default_rng(23))
    rows = calibration_table(log, BgNbd(0.5, 2.0, 0.8, 3.0), CUTOFF_AT, END_AT, bins=5)
    assert len(format_table(rows).splitlines()) == 1 + len(rows) == 6
    with pytest.raises(ValueError):
        calibration_table(log, BgNbd(0.5, 2.0, 0.8, 3.0), END_AT, CUTOFF_AT)
