"""Bootstrap intervals over items."""

from __future__ import annotations

import math

import pytest

from grasp_core.errors import GraspError
from grasp_core.evaluation.stats import bootstrap


def test_bootstrap_interval() -> None:
    const = bootstrap([0.3] * 20)
    assert const.mean == pytest.approx(0.3) and const.lo == pytest.approx(0.3) and const.hi == pytest.approx(0.3)
    values = [0.0, 1.0] * 50
    iv = bootstrap(values, n_boot=4000, seed=1)
    assert iv.lo < 0.5 < iv.hi
    assert iv.hi - iv.lo == pytest.approx(2 * 1.96 * math.sqrt(0.25 / 100), rel=0.15)
    assert bootstrap(values, seed=3) == bootstrap(values, seed=3)
    with pytest.raises(GraspError):
        bootstrap([])
