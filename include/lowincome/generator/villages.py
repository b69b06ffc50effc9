"""A county's townships and administrative villages, and its yearly key/weak village ledger."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lowincome.generator.counties import County
from lowincome.generator.economy import BASE_YEAR, Stream, rng_for
from lowincome.generator.names import helping_units, place_names
from lowincome.generator.writers import Table, table_from_columns


@dataclass
class VillageRoster:
    """Villages are fixed for the whole run; codes are county + township (3) + village (3) digits."""

    codes: list[str]
    names: list[str]
    townships: list[str]
    is_key: np.ndarray
    is_weak: np.ndarray
    income_2012: np.ndarray  # collective operating income, yuan
    income_growth: np.ndarray
    pairing_unit: list[str | None]
    pairing_2012: np.ndarray
    coverage_draw: np.ndarray  # (n, 3): tech, processing, mutual aid; covered once the year's rate passes it

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def household_weights(self) -> np.ndarray:
        """Key villages hold more low-income households (that is what makes them key)."""
        weights = np.ones(len(self.codes))
        weights[self.is_weak] = 1.5
        weights[self.is_key] = 3.0
        return weights / weights.sum()


def villages_at_full_scale(county: County) -> int:
    pop = county.rural_population_10k
    if county.is_29:
        return int(min(450, max(150, 100 + 7 * pop)))
    return int(min(400, max(100, 80 + 3 * pop)))


def village_roster(county: County, scale: float, seed: int) -> VillageRoster:
    rng = rng_for(seed, county.code, BASE_YEAR, Stream.VILLAGES)
    # Villages shrink slower than households, so that small samples still spread over several villages.
    n = max(4, round(villages_at_full_scale(county) * math.sqrt(min(scale, 4.0))))
    n_townships = int(min(40, max(2, round(n / 15))))
    per_township = np.bincount(rng.integers(0, n_townships, size=n), minlength=n_townships)
    per_township = np.minimum(np.maximum(per_township, 1), 99)
    stems = place_names(rng, n_townships + int(per_township.sum()))
    township_stems, village_stems = stems[:n_townships], stems[n_townships:]
    codes: list[str] = []
    names: list[str] = []
    townships: list[str] = []
    k = 0
    for t in range(n_townships):
        is_town = t < max(1, int(n_townships * 0.6))
        # GB/T 10114 style: 1xx towns, 2xx townships; villages (村委会) 2xx within them
        t_code = (100 + t) if is_town else (200 + t)
        t_name = township_stems[t] + ("镇" if is_town else "乡")
        for v in range(int(per_township[t])):
            codes.append(f"{county.code}{t_code:03d}{200 + v:03d}")
            names.append(village_stems[k] + "村")
            townships.append(t_name)
            k += 1
    n = len(codes)
    if county.is_29:
        is_key = rng.random(n) < 0.53
        is_weak = rng.random(n) < 0.3
    else:
        is_key = np.zeros(n, dtype=bool)
        is_weak = rng.random(n) < 0.18
    # at least one ledger row per county, so that every county sends a villages file
    if not (is_key | is_weak).any():
        is_weak[0] = True
    income = np.where(is_weak, 5000 + 40000 * rng.random(n), np.exp(rng.normal(11.5, 0.6, n)))
    growth = np.where(is_weak, 0.12 + 0.2 * rng.random(n), 0.05 + 0.1 * rng.random(n))
    has_unit = np.where(is_key, rng.random(n) < 0.92, is_weak & (rng.random(n) < 0.4))
    units = helping_units(rng, county.city_name, county.short_name, n)
    pairing_unit = [u if h else None for u, h in zip(units, has_unit.tolist(), strict=True)]
    pairing = np.where(is_key, 25000 + 55000 * rng.random(n), 5000 + 30000 * rng.random(n))
    return VillageRoster(
        codes=codes, names=names, townships=townships, is_key=is_key, is_weak=is_weak,
        income_2012=income, income_growth=growth, pairing_unit=pairing_unit, pairing_2012=pairing,
        coverage_draw=rng.random((n, 3)),
    )


def villages_table(county: County, roster: VillageRoster, year: int, seed: int) -> Table:
    rng = rng_for(seed, county.code, year, Stream.VILLAGE_YEAR)
    t = max(0, year - BASE_YEAR)
    listed = np.flatnonzero(roster.is_key | roster.is_weak)
    noise = 0.9 + 0.2 * rng.random(len(roster))
    income = np.round(roster.income_2012 * (1 + roster.income_growth) ** t * noise)
    pairing = np.round(roster.pairing_2012 * 1.1 ** t * (0.9 + 0.2 * rng.random(len(roster))), -2)
    key_boost = np.where(roster.is_key, 0.15, 0.0)
    tech = roster.coverage_draw[:, 0] < 0.3 + key_boost + 0.08 * t
    processing = roster.coverage_draw[:, 1] < 0.25 + key_boost + 0.05 * t
    mutual = roster.coverage_draw[:, 2] < 0.08 + 0.05 * t
    idx = listed.tolist()
    units = [roster.pairing_unit[i] for i in idx]
    columns = {
        "county_code": [county.code] * len(idx),
        "year": [year] * len(idx),
        "village_code": [roster.codes[i] for i in idx],
        "village_name": [roster.names[i] for i in idx],
        "is_key_village": roster.is_key[listed].tolist(),
        "is_weak_village": roster.is_weak[listed].tolist(),
        "collective_operating_income": income[listed].tolist(),
        "pairing_unit": units,
        "pairing_funds": [p if u else None for p, u in zip(pairing[listed].tolist(), units, strict=True)],
        "tech_extension_covered": tech[listed].tolist(),
        "processing_covered": processing[listed].tolist(),
        "has_mutual_aid_fund": mutual[listed].tolist(),
    }
    return table_from_columns("villages", county.code, county.name, year, columns)
