"""The perturbation table: bounded, unbiased noise of the stated variance, ordered by a secret."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from privacy.perturbation import (
    RECORD_KEY_MODULUS,
    SLOTS,
    Parameters,
    build_table,
    check_parameters,
    metadata,
    noise_distribution,
    quantise,
    table,
)

PARAMS = Parameters(max_noise=2, variance=1.0, threshold=5, median_min_count=20)
SECRET = b"s" * 32


@pytest.mark.parametrize("n", [1, 2, 3, 10, 1000])
def test_rows_are_bounded_unbiased_and_never_negative(n: int) -> None:
    ptable = build_table(PARAMS, SECRET)
    noises = [ptable.noise(n, slot << (31 - 10)) for slot in range(SLOTS)]
    assert all(-2 <= d <= 2 and n + d >= 0 for d in noises)
    assert abs(sum(noises) / SLOTS) < 0.01  # mean 0 up to the table's resolution
    variance = sum(d * d for d in noises) / SLOTS
    assert abs(variance - min(1.0, n * 2 / 2)) < 0.02
    assert len(set(noises)) >= 3  # real noise, not a constant shift


def test_maximum_entropy_solution_meets_its_moments() -> None:
    p = noise_distribution(7, 3, 2.0)
    assert set(p) == {-3, -2, -1, 0, 1, 2, 3} and abs(sum(p.values()) - 1) < 1e-9
    assert abs(sum(d * q for d, q in p.items())) < 1e-6
    assert abs(sum(d * d * q for d, q in p.items()) - 2.0) < 1e-6
    assert sum(quantise(p).values()) == SLOTS


def test_empty_cells_and_small_values_are_withheld() -> None:
    ptable = build_table(PARAMS, SECRET)
    assert ptable.noise(0, 0) == 0 and ptable.publish(0, 0) is None
    assert all(ptable.publish(2, k << 21) is None for k in range(SLOTS))  # 2 + at most 2 < 5
    published = {ptable.publish(4, k << 21) for k in range(SLOTS)}
    assert published <= {None, 5, 6}  # a 4 surfaces only as 5 or 6, never as itself


def test_same_count_and_cell_key_give_the_same_value_and_keys_wrap() -> None:
    ptable = build_table(PARAMS, SECRET)
    assert ptable.noise(40, 123_456_789) == ptable.noise(40, 123_456_789 + 7 * RECORD_KEY_MODULUS)


def test_the_secret_orders_the_table() -> None:
    """Without the secret, record keys from a dump do not tell the noise."""
    mine, other = build_table(PARAMS, SECRET), build_table(PARAMS, b"t" * 32)
    assert mine.rows != other.rows
    assert sorted(mine.rows[-1]) == sorted(other.rows[-1])  # same distribution, other order
    assert build_table(PARAMS, SECRET) == mine  # generated deterministically, once per secret


def test_installation_table_uses_the_configured_secret(settings) -> None:  # type: ignore[no-untyped-def]
    settings.STATS_PERTURBATION_KEY = "a" * 43
    first = table()
    settings.STATS_PERTURBATION_KEY = "b" * 43
    assert table().rows != first.rows


@pytest.mark.parametrize(
    "params",
    [
        Parameters(max_noise=0, variance=1.0, threshold=5, median_min_count=20),
        Parameters(max_noise=2, variance=0.0, threshold=5, median_min_count=20),
        Parameters(max_noise=2, variance=4.0, threshold=5, median_min_count=20),
        Parameters(max_noise=2, variance=1.0, threshold=0, median_min_count=20),
        Parameters(max_noise=2, variance=1.0, threshold=5, median_min_count=3),
    ],
)
def test_bad_parameters_stop_the_service(params: Parameters) -> None:
    with pytest.raises(ImproperlyConfigured):
        check_parameters(params)


def test_metadata_states_the_perturbation() -> None:
    meta = metadata(PARAMS)
    assert meta["perturbed"] is True and meta["max_noise"] == 2 and "±2" in str(meta["note"])
