"""The course's data world: a seeded simulator of a card-payments platform.

Most modules of the course work on the same story, generated here: customers
(in groups, for bias audits) buy from merchants over ``n_days`` days; a rare
share of the transactions is fraud, following a *fraud pattern* that changes
over time (concept drift); the platform only learns about fraud late
(chargebacks), incompletely (under-reporting that depends on the customer's
group) and noisily (label noise); most transactions are never labeled at all
(the unlabeled pool); analysts review a random audit sample (explicit
feedback) and customers dispute some transactions (implicit feedback).

>>> from mlcourse.world import make_world
>>> world = make_world(seed=0, n_transactions=5_000, n_customers=500)
>>> world.transactions.shape[0]
5000
>>> round(float(world.transactions["is_fraud"].mean()), 2)
0.02

Everything is decided by ``seed`` (same seed, identical frames) and by a
:class:`WorldConfig`. Generation is fully vectorised NumPy: one million
transactions take about a second.

How a world is made
-------------------
1. **Customers** get a group (``group_shares``), a home region, an account age,
   and hidden habits: how active they are, how often they buy abroad, how
   much they spend, whether they prefer their phone or a computer. By
   default none of the habits depends on the group, so the *true* fraud rate
   is the same in every group. Two knobs change that, and both are off by
   default (a default world draws exactly what it drew before they existed):

   * ``group_proxy_strength`` (0 to 1) gives the world **proxies** of the
     group: with that probability a customer lives in their group's region
     (the first group leans to "west", the second to "east", the third to
     "south", ...), so the merchant region of their purchases betrays the
     group, and their phone-or-computer habit moves that share of the way to
     their group's (the first group pays on the phone, the second on a
     computer, the third half and half), so the device does too. Device enters
     the fraud patterns, so the groups' true fraud rates then differ a little.
     The draws come from their own random stream.
   * ``group_fraud_odds`` (group -> odds ratio, groups not named 1) makes the
     *true* base rates differ: the odds of fraud of a group's transactions
     are multiplied by its ratio, and the intercept still gives ``fraud_rate``
     overall.

   A third knob, off by default too, concentrates fraud in rare **segments**:
   ``segment_fraud_odds`` maps ``"category@region"`` (a merchant category of
   :data:`MERCHANT_CATEGORIES` and a merchant region of
   :data:`MERCHANT_REGIONS`, e.g. ``"fuel@abroad_other"``) to an odds ratio
   that multiplies the odds of fraud of that segment's transactions (a
   compromised terminal network, a fraud ring working one kind of shop
   abroad). The pattern score of those transactions is unchanged, so their
   fraud does not look like fraud elsewhere: only labels *from the segment*
   teach a model about it. It draws nothing: the fraud draws are the same
   uniforms, compared with other probabilities (so the frauds, and the hard
   negatives picked among the legitimate transactions, change).
2. **Merchants** get a category (grocery, travel, digital goods, ...) and a
   region; travel and online merchants are more often abroad.
3. **Transactions** come in shopping *sessions* (one or a few purchases within
   minutes), placed on days with a weekly rhythm and a slight growth trend
   and at hours with a day/night rhythm. Each purchase picks a merchant
   (mostly in the home region, sometimes elsewhere, sometimes abroad), a
   device, a log-normal amount typical of the merchant category and a
   distance from home.
4. **Fraud** is drawn from a logistic model: ``P(fraud) = sigmoid(b + s)``
   where ``s`` is the linear score of the features under the fraud pattern in
   force that day (:data:`FRAUD_PATTERNS`, see :func:`pattern_score`) and the
   intercept ``b`` is solved, per drift regime, so that the fraud rate is
   ``fraud_rate``. The drift schedule (``drift``) switches the pattern on
   given days, so a model trained before a switch degrades after it.
5. **Hard negatives**: a share of the legitimate transactions, preferably
   ones that already look suspicious, are pushed further towards the current
   pattern (merchant, amount, distance, device): legit, but fraud-looking.
6. **Data problems**: a few amounts become extreme outliers (recording errors,
   injected *after* the label, so they carry no fraud signal), and cells of
   ``distance_km``, ``account_age_days`` and ``device`` go missing completely
   at random.
7. **What the platform observes**: a labeled set (``labeled_fraction`` of the
   transactions, with group C sampled less, ``group_label_sampling``), whose
   labels come from chargebacks that group C reports less often
   (``chargeback_report_rate``: the hidden bias), flipped with probability
   ``label_noise`` and known only from ``label_day`` on; analyst reviews of a
   random audit sample, right with probability ``review_accuracy``; and
   customer disputes.

Frames
------
``World.customers``, one row per customer (``n_customers`` rows):

=================  ==========  =================================================
column             dtype       meaning
=================  ==========  =================================================
customer_id        int64       0 .. n_customers-1
customer_group     category    sensitive attribute, categories = group_shares keys
home_region        category    one of :data:`HOME_REGIONS`
account_age_days   int64       age of the account on day 0, in days (>= 0)
=================  ==========  =================================================

``World.merchants``, one row per merchant (``n_merchants`` rows):

=================  ==========  =================================================
merchant_id        int64       0 .. n_merchants-1
merchant_category  category    one of :data:`MERCHANT_CATEGORIES`
merchant_region    category    one of :data:`MERCHANT_REGIONS` ("abroad_*" = foreign)
=================  ==========  =================================================

``World.transactions``, one row per transaction, sorted by ``timestamp``,
index ``0 .. n_transactions-1``:

==================  ==============  ================================================
transaction_id      int64           0 .. n-1, in time order (equals the index)
timestamp           datetime64[ns]  when it happened (second resolution)
day                 int64           days since ``start_date``, 0 .. n_days-1
hour                int64           hour of day, 0 .. 23
customer_id         int64           -> customers
customer_group      category        the customer's group (sensitive attribute)
merchant_id         int64           -> merchants
merchant_category   category        the merchant's category
merchant_region     category        the merchant's region
device              category        "mobile", "desktop" or "pos" (card terminal);
                                    NaN where missing
amount              float64         euros, > 0, log-normal by merchant category
                                    (right-skewed), with rare extreme outliers
distance_km         float64         km between the customer's home and the
                                    merchant, skewed (log-normal); NaN where missing
account_age_days    float64         the account's age on the transaction's day, in
                                    days; NaN where missing
tx_count_24h        int64           the customer's transactions in the 24 hours
                                    before this one: timestamps in [t - 24 h, t)
is_foreign          bool            the merchant is abroad
is_new_device       bool            the platform sees this phone/computer for the first
                                    time (likelier on young accounts; always False at
                                    a "pos" terminal)
noise_0 ..          float64         pure noise, independent of everything: normal,
noise_{k-1}                         uniform, log-normal, Student-t (by k mod 4)
fraud_pattern       category        the fraud pattern in force that day (the drift
                                    regime), categories = FRAUD_PATTERNS keys
is_fraud            int64           GROUND TRUTH 0/1, known to the world, not to the
                                    platform
fraud_probability   float64         GROUND TRUTH: the probability with which
                                    is_fraud was drawn (added to the contract, for
                                    calibration exercises)
is_hard_negative    bool            legit, but moved towards the current pattern
in_labeled_set      bool            the transaction belongs to the labeled set
label               float64         observed label 0.0/1.0 (after report bias and
                                    noise); NaN outside the labeled set
label_day           float64         day the label becomes known: ``day`` + chargeback
                                    delay (label 1) or + SETTLEMENT_DELAY_DAYS
                                    (label 0); may exceed n_days; NaN where label is
reviewed            bool            in the analysts' random audit (explicit feedback)
review_label        float64         the analyst's 0.0/1.0 verdict; NaN if not reviewed
disputed            bool            the customer disputed it (implicit feedback)
dispute_day         float64         day of the dispute; NaN if not disputed
==================  ==============  ================================================

Every categorical column has a fixed list of categories (the module
constants, the group names, the pattern names), whether or not all of them
occur, so frames from different seeds concatenate cleanly.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DriftEvent",
    "FRAUD_PATTERNS",
    "OBSERVED_FEATURES",
    "PATTERN_TERMS",
    "HOME_REGIONS",
    "MERCHANT_REGIONS",
    "MERCHANT_CATEGORIES",
    "DEVICES",
    "SETTLEMENT_DELAY_DAYS",
    "World",
    "WorldConfig",
    "make_world",
    "pattern_score",
]

# --------------------------------------------------------------------------
# The vocabulary of the world
# --------------------------------------------------------------------------

#: Regions where customers live (and domestic merchants are).
HOME_REGIONS: tuple[str, ...] = ("central", "north", "south", "east", "west")
_HOME_REGION_SHARES = np.array([0.30, 0.20, 0.20, 0.15, 0.15])

#: Merchant regions: the home regions plus two foreign ones.
MERCHANT_REGIONS: tuple[str, ...] = HOME_REGIONS + ("abroad_eu", "abroad_other")
_N_HOME = len(HOME_REGIONS)

#: Merchant categories. Each row of ``_CATEGORY_TABLE`` below describes one.
MERCHANT_CATEGORIES: tuple[str, ...] = (
    "grocery",
    "restaurants",
    "fuel",
    "retail",
    "electronics",
    "travel",
    "digital_goods",
    "gaming",
)

# Per category: share of traffic, median amount (EUR), spread of log(amount),
# P(paid at a card terminal), P(the merchant is abroad).
_CATEGORY_TABLE = np.array(
    [
        # share  median  log_sd  p_pos  p_abroad
        [0.25, 32.0, 0.60, 0.85, 0.03],  # grocery
        [0.15, 24.0, 0.55, 0.75, 0.04],  # restaurants
        [0.10, 55.0, 0.35, 0.92, 0.02],  # fuel
        [0.16, 40.0, 0.80, 0.60, 0.06],  # retail
        [0.07, 160.0, 0.90, 0.35, 0.10],  # electronics
        [0.09, 320.0, 0.80, 0.10, 0.35],  # travel
        [0.11, 8.0, 0.70, 0.00, 0.30],  # digital_goods
        [0.07, 14.0, 0.80, 0.00, 0.25],  # gaming
    ]
)
_CAT_SHARE, _CAT_MEDIAN, _CAT_LOG_SD, _CAT_P_POS, _CAT_P_ABROAD = _CATEGORY_TABLE.T

#: Devices. "pos" is a card terminal in a shop; the others are card-not-present.
DEVICES: tuple[str, ...] = ("mobile", "desktop", "pos")
_MOBILE, _DESKTOP, _POS = 0, 1, 2

#: Relative number of purchases per hour of day (0 .. 23): quiet at night,
#: busy from late morning to evening.
_HOUR_PROFILE = np.array(
    [0.6, 0.4, 0.3, 0.25, 0.25, 0.4, 0.9, 1.8, 2.6, 3.2, 3.6, 4.2,
     4.8, 4.5, 4.2, 4.3, 4.6, 5.0, 5.2, 4.8, 4.0, 3.0, 2.0, 1.2]
)  # fmt: skip
_NIGHT_HOURS = 6  # hours 0 .. 5 count as night

#: Days a legit ("0") label takes to be known: the settlement window.
SETTLEMENT_DELAY_DAYS = 7

# Mean days from transaction to dispute: a victim notices fraud quickly, a
# "friendly fraud" dispute of a legit purchase comes later.
_DISPUTE_DELAY_FRAUD_DAYS = 4.0
_DISPUTE_DELAY_LEGIT_DAYS = 15.0

_SECONDS_PER_DAY = 86_400
_WINDOW_24H = _SECONDS_PER_DAY

# --------------------------------------------------------------------------
# Fraud patterns
# --------------------------------------------------------------------------

#: Fraud patterns: logistic coefficients on the pattern terms (see
#: :data:`PATTERN_TERMS` and :func:`pattern_score`). Continuous terms are
#: standardised (about mean 0, sd 1); binary and one-hot terms are 0/1. You may
#: add your own pattern here before calling :func:`make_world`.
FRAUD_PATTERNS: dict[str, dict[str, float]] = {
    # A stolen physical card or card number, used fast and far away: at night,
    # abroad, far from home, for large amounts, for resellable goods.
    "stolen_card": {
        "night": 1.6,
        "is_foreign": 1.3,
        "log_distance": 0.6,
        "log_amount": 0.8,
        "category:travel": 1.2,
        "category:electronics": 1.3,
        "category:grocery": -0.6,
        "device:pos": -0.5,
    },
    # Testing stolen card numbers: many tiny purchases in a burst, on digital
    # goods and games, scripted from a computer.
    "card_testing": {
        "log_amount": -0.6,
        "tx_count_24h": 1.1,
        "category:digital_goods": 1.5,
        "category:gaming": 1.3,
        "device:desktop": 0.8,
        "is_foreign": 1.0,
        "night": 1.0,
    },
    # A taken-over account: a new device, on young (weakly protected)
    # accounts, for large amounts.
    "account_takeover": {
        "is_new_device": 2.3,
        "log_account_age": -0.8,
        "log_amount": 0.7,
        "device:mobile": 0.5,
        "category:electronics": 0.5,
    },
}

# Continuous terms: name -> (column, transform, centre, scale). The reference
# centre and scale are roughly the mean and sd of the transformed column in a
# default world; fixing them makes a row's score depend on that row alone.
_CONTINUOUS_TERMS: dict[str, tuple[str, str, float, float]] = {
    "log_amount": ("amount", "log", 3.50, 1.15),
    "log_distance": ("distance_km", "log1p", 2.75, 1.70),
    "tx_count_24h": ("tx_count_24h", "log1p", 0.45, 0.55),
    "log_account_age": ("account_age_days", "log1p", 6.60, 1.05),
}
_BINARY_TERMS = ("night", "is_foreign", "is_new_device")

#: Every term a fraud pattern may use.
PATTERN_TERMS: tuple[str, ...] = (
    tuple(_CONTINUOUS_TERMS)
    + _BINARY_TERMS
    + tuple(f"category:{c}" for c in MERCHANT_CATEGORIES)
    + tuple(f"device:{d}" for d in DEVICES)
)

# The random-number streams of the world, one child generator each. New
# components must be appended at the end: children are numbered, so earlier
# streams (and therefore earlier columns) stay identical.
_COMPONENTS = (
    "customers",
    "merchants",
    "sessions",
    "merchant_choice",
    "devices",
    "amounts",
    "distances",
    "fraud",
    "hard_negatives",
    "outliers",
    "missing",
    "noise",
    "labels",
    "reviews",
    "disputes",
    "proxies",
)


# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class DriftEvent:
    """From ``day`` on (inclusive), fraud follows ``pattern`` (a key of FRAUD_PATTERNS)."""

    day: int
    pattern: str


class _FrozenMapping(Mapping[str, float]):
    """A read-only, hashable copy of a dict: keeps WorldConfig frozen and hashable
    (usable as a cache key), while reading like the dict it was made from."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, float]) -> None:
        self._data = dict(data)

    def __getitem__(self, key: str) -> float:
        return self._data[key]

    def __iter__(self) -> Any:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(self._data.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and self._data == dict(other.items())

    def __repr__(self) -> str:
        return repr(self._data)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_FrozenMapping, (self._data,))


def _default_groups() -> dict[str, float]:
    return {"A": 0.55, "B": 0.35, "C": 0.10}


def _default_report_rate() -> dict[str, float]:
    return {"A": 0.92, "B": 0.92, "C": 0.55}


def _default_label_sampling() -> dict[str, float]:
    return {"C": 0.5}


#: The transaction columns a model may read at prediction time, noise columns
#: aside: no ids, timestamps, labels, feedback or ground truth.
OBSERVED_FEATURES: tuple[str, ...] = (
    "amount",
    "hour",
    "device",
    "distance_km",
    "account_age_days",
    "tx_count_24h",
    "is_foreign",
    "is_new_device",
    "merchant_category",
    "merchant_region",
    "customer_group",
)


@dataclass(frozen=True)
class WorldConfig:
    """Every knob of the world; validated on creation (``ValueError`` naming the field).

    See the module docstring for what each part does. Mappings are stored as
    read-only copies (changing the dict you passed in later does not change
    the config), so a config is hashable and can serve as a cache key.

    >>> WorldConfig(fraud_rate=0.03).fraud_rate
    0.03
    >>> WorldConfig(fraud_rate=0.7)
    Traceback (most recent call last):
    ...
    ValueError: WorldConfig.fraud_rate: expected a number in (0, 0.5), got 0.7
    """

    n_transactions: int = 200_000
    n_customers: int = 20_000
    n_merchants: int = 1_000
    n_days: int = 120
    start_date: str = "2026-01-01"
    group_shares: Mapping[str, float] = field(default_factory=_default_groups)
    fraud_rate: float = 0.02
    initial_pattern: str = "stolen_card"
    drift: tuple[DriftEvent, ...] = (DriftEvent(day=80, pattern="card_testing"),)
    label_noise: float = 0.01
    chargeback_delay_days: float = 30.0
    chargeback_report_rate: Mapping[str, float] = field(default_factory=_default_report_rate)
    labeled_fraction: float = 0.25
    group_label_sampling: Mapping[str, float] = field(default_factory=_default_label_sampling)
    missing_rate: float = 0.05
    n_noise_features: int = 4
    outlier_rate: float = 0.002
    hard_negative_rate: float = 0.01
    review_rate: float = 0.03
    review_accuracy: float = 0.97
    dispute_rate_fraud: float = 0.6
    dispute_rate_legit: float = 0.004
    group_proxy_strength: float = 0.0
    group_fraud_odds: Mapping[str, float] = field(default_factory=dict)
    segment_fraud_odds: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("n_transactions", "n_customers", "n_merchants", "n_days"):
            _check_int(name, getattr(self, name), low=1)
        _check_int("n_noise_features", self.n_noise_features, low=0)
        _check_start_date(self.start_date)

        groups = _check_shares(self.group_shares)
        # Frozen dataclass: assignment must go through object.__setattr__.
        object.__setattr__(self, "group_shares", groups)
        object.__setattr__(
            self,
            "chargeback_report_rate",
            _check_group_map("chargeback_report_rate", self.chargeback_report_rate, groups,
                             complete=True, low=0.0, high=1.0, low_open=False),
        )
        object.__setattr__(
            self,
            "group_label_sampling",
            _check_group_map("group_label_sampling", self.group_label_sampling, groups,
                             complete=False, low=0.0, high=math.inf, low_open=True),
        )
        object.__setattr__(
            self,
            "group_fraud_odds",
            _check_group_map("group_fraud_odds", self.group_fraud_odds, groups,
                             complete=False, low=0.0, high=math.inf, low_open=True),
        )
        object.__setattr__(self, "segment_fraud_odds", _check_segment_odds(self.segment_fraud_odds))

        # (field, low, high, low_open, high_open)
        ranges = [
            ("fraud_rate", 0.0, 0.5, True, True),
            ("label_noise", 0.0, 0.5, False, True),
            ("chargeback_delay_days", 0.0, math.inf, True, True),
            ("labeled_fraction", 0.0, 1.0, True, False),
            ("group_proxy_strength", 0.0, 1.0, False, False),
            ("missing_rate", 0.0, 1.0, False, True),
            ("outlier_rate", 0.0, 0.5, False, True),
            ("hard_negative_rate", 0.0, 0.5, False, True),
            ("review_rate", 0.0, 1.0, False, False),
            ("review_accuracy", 0.5, 1.0, True, False),
            ("dispute_rate_fraud", 0.0, 1.0, False, False),
            ("dispute_rate_legit", 0.0, 1.0, False, False),
        ]
        for name, low, high, low_open, high_open in ranges:
            _check_number(name, getattr(self, name), low, high, low_open, high_open)

        _check_pattern("initial_pattern", self.initial_pattern)
        object.__setattr__(self, "drift", _check_drift(self.drift, self.n_days))


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    high_text = "inf" if math.isinf(high) else f"{high:g}"
    return f"{left}{low:g}, {high_text}{right}"


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _check_int(name: str, value: Any, low: int) -> None:
    if not _is_int(value) or value < low:
        raise ValueError(f"WorldConfig.{name}: expected an integer >= {low}, got {value!r}")


def _check_number(
    name: str, value: Any, low: float, high: float, low_open: bool, high_open: bool
) -> None:
    ok = _is_real(value)
    if ok:
        v = float(value)
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        interval = _interval(low, high, low_open, high_open)
        raise ValueError(f"WorldConfig.{name}: expected a number in {interval}, got {value!r}")


def _check_start_date(value: Any) -> None:
    try:
        if not isinstance(value, str):
            raise TypeError
        np.datetime64(value, "D")
    except (TypeError, ValueError):
        raise ValueError(
            f"WorldConfig.start_date: expected an ISO date string like '2026-01-01', got {value!r}"
        ) from None


def _check_shares(shares: Any) -> _FrozenMapping:
    name = "WorldConfig.group_shares"
    if not isinstance(shares, Mapping) or len(shares) == 0:
        raise ValueError(f"{name}: expected a non-empty mapping group -> share, got {shares!r}")
    for group, share in shares.items():
        if not isinstance(group, str) or not group:
            raise ValueError(f"{name}: expected non-empty string group names, got {group!r}")
        if not _is_real(share) or share <= 0:
            raise ValueError(f"{name}: expected a share > 0 for group {group!r}, got {share!r}")
    total = float(sum(shares.values()))
    if abs(total - 1.0) > 1e-6:
        raise ValueError(
            f"{name}: expected shares summing to 1 (within 1e-6), got a sum of {total!r}"
        )
    return _FrozenMapping({g: float(s) for g, s in shares.items()})


def _check_group_map(
    name: str,
    values: Any,
    groups: Mapping[str, float],
    complete: bool,
    low: float,
    high: float,
    low_open: bool,
) -> _FrozenMapping:
    full = f"WorldConfig.{name}"
    if not isinstance(values, Mapping):
        raise ValueError(f"{full}: expected a mapping group -> number, got {values!r}")
    unknown = sorted(set(values) - set(groups), key=str)
    if unknown:
        raise ValueError(
            f"{full}: expected only groups of group_shares {list(groups)}, got unknown {unknown}"
        )
    missing = [g for g in groups if g not in values]
    if complete and missing:
        raise ValueError(f"{full}: expected a value for every group, missing {missing}")
    interval = _interval(low, high, low_open, high_open=math.isinf(high))
    for group, value in values.items():
        ok = _is_real(value) and (value > low if low_open else value >= low) and value <= high
        if not ok:
            raise ValueError(
                f"{full}: expected a number in {interval} for group {group!r}, got {value!r}"
            )
    return _FrozenMapping({g: float(v) for g, v in values.items()})


def _check_segment_odds(values: Any) -> _FrozenMapping:
    """``segment_fraud_odds``: ``"category@region"`` -> an odds ratio in (0, inf)."""
    full = "WorldConfig.segment_fraud_odds"
    if not isinstance(values, Mapping):
        raise ValueError(f"{full}: expected a mapping 'category@region' -> number, got {values!r}")
    for key, value in values.items():
        category, _, region = key.partition("@") if isinstance(key, str) else ("", "", "")
        if category not in MERCHANT_CATEGORIES or region not in MERCHANT_REGIONS:
            raise ValueError(
                f"{full}: expected keys 'category@region' with a category of MERCHANT_CATEGORIES "
                f"and a region of MERCHANT_REGIONS, got {key!r}"
            )
        if not (_is_real(value) and 0.0 < value < math.inf):
            raise ValueError(f"{full}: expected a number in (0, inf) for segment {key!r}, got {value!r}")
    return _FrozenMapping({k: float(v) for k, v in values.items()})


def _segment_log_odds(config: WorldConfig, category: np.ndarray, region: np.ndarray) -> np.ndarray:
    """The log odds ratio of every transaction's segment (0 outside the segments of
    ``config.segment_fraud_odds``); ``category`` and ``region`` are codes, shape (n,)."""
    table = np.zeros((len(MERCHANT_CATEGORIES), len(MERCHANT_REGIONS)))
    for key, odds in config.segment_fraud_odds.items():
        category_name, _, region_name = key.partition("@")
        table[MERCHANT_CATEGORIES.index(category_name), MERCHANT_REGIONS.index(region_name)] = math.log(odds)
    return table[category, region]


def _check_pattern(name: str, pattern: Any) -> None:
    if not isinstance(pattern, str) or pattern not in FRAUD_PATTERNS:
        raise ValueError(
            f"WorldConfig.{name}: expected one of FRAUD_PATTERNS {sorted(FRAUD_PATTERNS)}, "
            f"got {pattern!r}"
        )


def _check_drift(drift: Any, n_days: int) -> tuple[DriftEvent, ...]:
    name = "WorldConfig.drift"
    if isinstance(drift, DriftEvent) or not isinstance(drift, tuple | list):
        raise ValueError(f"{name}: expected a tuple of DriftEvent, got {drift!r}")
    previous = -1
    for event in drift:
        if not isinstance(event, DriftEvent):
            raise ValueError(f"{name}: expected DriftEvent items, got {event!r}")
        if not _is_int(event.day) or not 0 <= event.day < n_days:
            raise ValueError(
                f"{name}: expected each DriftEvent.day to be an integer in [0, n_days={n_days}), "
                f"got {event.day!r} (for a shorter world pass drift=() or earlier days)"
            )
        if event.day <= previous:
            raise ValueError(
                f"{name}: expected strictly increasing days, got {event.day} after {previous}"
            )
        previous = event.day
        if not isinstance(event.pattern, str) or event.pattern not in FRAUD_PATTERNS:
            raise ValueError(
                f"{name}: expected each DriftEvent.pattern in FRAUD_PATTERNS "
                f"{sorted(FRAUD_PATTERNS)}, got {event.pattern!r}"
            )
    return tuple(drift)


def _check_pattern_terms(pattern: str) -> None:
    coefs = FRAUD_PATTERNS[pattern]
    for term, weight in coefs.items():
        if term not in PATTERN_TERMS:
            raise ValueError(
                f"FRAUD_PATTERNS[{pattern!r}]: expected terms from PATTERN_TERMS, got {term!r}"
            )
        if not _is_real(weight):
            raise ValueError(
                f"FRAUD_PATTERNS[{pattern!r}][{term!r}]: expected a finite number, got {weight!r}"
            )


# --------------------------------------------------------------------------
# The world
# --------------------------------------------------------------------------


@dataclass(eq=False)
class World:
    """A generated world: its config and seed, and three frames (see the module docstring)."""

    config: WorldConfig
    seed: int
    customers: pd.DataFrame = field(repr=False)
    merchants: pd.DataFrame = field(repr=False)
    transactions: pd.DataFrame = field(repr=False)

    def __repr__(self) -> str:
        tx = self.transactions
        return (
            f"World(seed={self.seed}, transactions={len(tx):,}, customers={len(self.customers):,}, "
            f"merchants={len(self.merchants):,}, days={self.config.n_days}, "
            f"fraud_rate={tx['is_fraud'].mean():.4f})"
        )

    @property
    def noise_columns(self) -> list[str]:
        """The pure-noise columns ``noise_0 .. noise_{k-1}``."""
        return [f"noise_{j}" for j in range(self.config.n_noise_features)]

    @property
    def feature_columns(self) -> list[str]:
        """Model inputs: what is observable when the transaction is scored.

        Not ids, timestamp or day, labels, feedback, or ground truth.
        ``device``, ``merchant_category``, ``merchant_region`` and
        ``customer_group`` are categorical; ``distance_km``,
        ``account_age_days`` and ``device`` have missing values.
        """
        return [*OBSERVED_FEATURES, *self.noise_columns]

    def labeled(self, as_of_day: float | None = None) -> pd.DataFrame:
        """Labeled-set rows whose label is known by ``as_of_day`` (all of them when None).

        A label is known on ``label_day`` itself (``label_day <= as_of_day``).
        Rows keep their index in ``transactions``.
        """
        tx = self.transactions
        mask = tx["in_labeled_set"].to_numpy()
        if as_of_day is not None:
            if not _is_real(as_of_day):
                raise ValueError(f"as_of_day: expected a day number or None, got {as_of_day!r}")
            # NaN label_day compares False, but those rows are outside the set anyway.
            mask = mask & (tx["label_day"].to_numpy() <= float(as_of_day))
        return tx[mask]

    def unlabeled(self) -> pd.DataFrame:
        """The unlabeled pool: every transaction outside the labeled set (index kept)."""
        tx = self.transactions
        return tx[~tx["in_labeled_set"].to_numpy()]


def make_world(config: WorldConfig | None = None, seed: int = 0, **overrides: Any) -> World:
    """Generate a world.

    Parameters
    ----------
    config : WorldConfig, optional
        The configuration; the default ``WorldConfig()`` when None.
    seed : int >= 0, default=0
        The same seed (and config) gives identical frames.
    **overrides
        Fields of :class:`WorldConfig` to replace, e.g. ``n_transactions=50_000``.

    Returns
    -------
    World

    Examples
    --------
    >>> w = make_world(seed=3, n_transactions=2_000, n_customers=300, n_days=30, drift=())
    >>> len(w.transactions), len(w.customers), bool(w.transactions["day"].max() < 30)
    (2000, 300, True)
    """
    if config is None:
        config = WorldConfig()
    if not isinstance(config, WorldConfig):
        raise ValueError(f"config: expected a WorldConfig or None, got {type(config).__name__}")
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")
    if overrides:
        known = {f.name for f in dataclasses.fields(WorldConfig)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(
                f"make_world: unknown WorldConfig field(s) {unknown}; "
                f"expected some of {sorted(known)}"
            )
        config = dataclasses.replace(config, **overrides)
    for pattern in dict.fromkeys(_regime_patterns(config)):
        _check_pattern_terms(pattern)
    return _generate(config, int(seed))


# --------------------------------------------------------------------------
# Sampling helpers
# --------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # Clipping keeps exp() finite; sigmoid(+-40) is 0 or 1 to double precision.
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40.0, 40.0)))


def _sample_index(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """Draw ``size`` indices with probability proportional to ``weights`` (inverse CDF)."""
    cdf = np.cumsum(weights, dtype=np.float64)
    u = rng.random(size) * cdf[-1]
    # side="right" never returns an index whose weight is 0.
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(weights) - 1)


def _weighted_sample_without_replacement(
    rng: np.random.Generator, weights: np.ndarray, k: int
) -> np.ndarray:
    """Indices of ``k`` items drawn without replacement, each with chance growing with its weight.

    "Exponential clocks" (Efraimidis-Spirakis): item i rings at time E_i / w_i
    with E_i ~ Exp(1); the first k to ring form the sample. O(n), no loop.
    """
    k = int(min(max(k, 0), len(weights)))
    if k == 0:
        return np.empty(0, dtype=np.int64)
    with np.errstate(divide="ignore"):  # a zero weight rings at infinity: never first
        ring = rng.standard_exponential(len(weights)) / weights
    if k == len(weights):
        return np.arange(k)
    return np.argpartition(ring, k - 1)[:k]


def _segment_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each segment; ``starts`` = first index of each segment."""
    total = np.cumsum(values)
    offset = np.repeat(total[starts] - values[starts], np.diff(np.append(starts, len(values))))
    return total - offset


# --------------------------------------------------------------------------
# Generation, step by step
# --------------------------------------------------------------------------


@dataclass
class _Customers:
    group: np.ndarray  # group code
    home: np.ndarray  # home-region code
    age0: np.ndarray  # account age on day 0
    activity: np.ndarray  # relative number of shopping sessions
    p_abroad: np.ndarray  # chance a purchase is at a foreign merchant
    p_mobile: np.ndarray  # chance a card-not-present purchase is on the phone
    spend: np.ndarray  # shift of log(amount): big and small spenders


@dataclass
class _Merchants:
    category: np.ndarray
    region: np.ndarray
    popularity: np.ndarray


def _make_customers(rng: np.random.Generator, config: WorldConfig) -> _Customers:
    n = config.n_customers
    shares = np.array(list(config.group_shares.values()))
    # Every habit below is drawn independently of the group: the true fraud
    # rate is the same in every group, only the observation of it is biased.
    group = _sample_index(rng, shares, n)
    home = _sample_index(rng, _HOME_REGION_SHARES, n)
    # About 12% brand-new accounts (< 3 months), the rest years old.
    young = rng.random(n) < 0.12
    old_age = np.exp(rng.normal(np.log(900.0), 0.8, n))
    age0 = np.where(young, rng.integers(0, 90, n), np.minimum(old_age, 20 * 365)).astype(np.int64)
    # Gamma(0.7): most customers shop rarely, a few very often.
    activity = rng.gamma(0.7, 1.0, n)
    p_abroad = rng.beta(0.5, 12.0, n)
    p_mobile = rng.beta(3.0, 1.5, n)
    spend = rng.normal(0.0, 0.35, n)
    return _Customers(group, home, age0, activity, p_abroad, p_mobile, spend)


#: With proxies, the share of card-not-present purchases made on the phone that group k's customers lean
#: to (cycling over the groups in ``group_shares`` order): the first group to the phone, the second to a
#: computer, the third half and half.
_PROXY_P_MOBILE = (0.9, 0.1, 0.5)


def _proxy_region(k: np.ndarray) -> np.ndarray:
    """The home region that group k's customers lean to: HOME_REGIONS[-1 - k] (cycling)."""
    return (_N_HOME - 1 - k) % _N_HOME


def _add_group_proxies(rng: np.random.Generator, strength: float, customers: _Customers) -> None:
    """Make home region and device habit depend on the group (in place): proxies of the group.

    With probability ``strength`` a customer lives in their group's region
    (:func:`_proxy_region`) instead of the one drawn for them, so the
    merchant region of their purchases (mostly at home) betrays the group; and
    their chance of paying on the phone rather than a computer moves a share
    ``strength`` of the way to their group's preference (:data:`_PROXY_P_MOBILE`),
    so the device does too. Device enters the fraud patterns (desktop for card
    testing, mobile for account takeover), so with proxies the true fraud rates
    of the groups differ a little; region does not enter them.
    """
    n = len(customers.group)
    moved = rng.random(n) < strength
    customers.home = np.where(moved, _proxy_region(customers.group), customers.home)
    target = np.asarray(_PROXY_P_MOBILE)[customers.group % len(_PROXY_P_MOBILE)]
    customers.p_mobile = (1.0 - strength) * customers.p_mobile + strength * target


def _make_merchants(rng: np.random.Generator, n: int) -> _Merchants:
    category = _sample_index(rng, _CAT_SHARE, n)
    abroad = rng.random(n) < _CAT_P_ABROAD[category]
    domestic = _sample_index(rng, _HOME_REGION_SHARES, n)
    foreign = _N_HOME + (rng.random(n) < 0.4)  # abroad_eu 60%, abroad_other 40%
    region = np.where(abroad, foreign, domestic)
    # A few big merchants take most of the traffic (log-normal popularity).
    popularity = np.exp(rng.normal(0.0, 1.0, n))
    return _Merchants(category, region, popularity)


def _day_weights(config: WorldConfig) -> np.ndarray:
    days = np.arange(config.n_days)
    # 1970-01-01 was a Thursday: (days since epoch + 3) % 7 gives Monday = 0.
    epoch_day = np.datetime64(config.start_date, "D").astype(np.int64)
    weekday = (epoch_day + days + 3) % 7
    weekend_boost = np.where(weekday >= 4, 1.15, 1.0)  # Friday to Sunday
    trend = 1.0 + 0.2 * days / config.n_days  # the platform grows
    return weekend_boost * trend


def _draw_sessions(
    rng: np.random.Generator, config: WorldConfig, customers: _Customers
) -> tuple[np.ndarray, np.ndarray]:
    """Customer index and time (seconds since start) of every transaction, in time order.

    Purchases come in sessions: 1 + Geometric extra purchases a few minutes
    apart, which is what makes ``tx_count_24h`` (and card testing) bursty.
    """
    n = config.n_transactions
    p_stop = 0.6  # session size ~ Geometric(0.6): mean 1.67
    sizes = rng.geometric(p_stop, int(n * p_stop * 1.2) + 16)
    # Rarely the draw is too short; top it up (a loop over chunks, not rows).
    while sizes.sum() < n:
        sizes = np.concatenate([sizes, rng.geometric(p_stop, len(sizes))])
    cum = np.cumsum(sizes)
    n_sessions = int(np.searchsorted(cum, n) + 1)
    sizes = sizes[:n_sessions]
    sizes[-1] -= cum[n_sessions - 1] - n  # cut the last session so the total is n

    customer = _sample_index(rng, customers.activity, n_sessions)
    day = _sample_index(rng, _day_weights(config), n_sessions)
    hour = _sample_index(rng, _HOUR_PROFILE, n_sessions)
    start = (day * 24 + hour) * 3600 + rng.integers(0, 3600, n_sessions)

    # Within a session: the first purchase at the start, the next ones after
    # exponential gaps of ~4 minutes.
    first = np.concatenate([[0], cum[:-1]])[:n_sessions]
    gaps = rng.exponential(240.0, n)
    gaps[first] = 0.0
    offset = _segment_cumsum(gaps, first)
    seconds = np.repeat(start, sizes) + np.rint(offset).astype(np.int64)
    horizon = config.n_days * _SECONDS_PER_DAY
    seconds = np.minimum(seconds, horizon - 1)  # a session at the very end stays in range
    customer = np.repeat(customer, sizes)

    order = np.argsort(seconds, kind="stable")
    return customer[order], seconds[order]


def _choose_merchants(
    rng: np.random.Generator,
    customers: _Customers,
    merchants: _Merchants,
    customer: np.ndarray,
) -> np.ndarray:
    """Merchant of every transaction: mostly at home, sometimes elsewhere or abroad."""
    n = len(customer)
    home = customers.home[customer]
    u = rng.random(n)
    p_abroad = customers.p_abroad[customer]
    p_away = 0.15  # another domestic region
    other = (home + 1 + rng.integers(0, _N_HOME - 1, n)) % _N_HOME
    foreign = _N_HOME + (rng.random(n) < 0.4)
    target = np.where(u < p_abroad, foreign, np.where(u < p_abroad + p_away, other, home))

    # Pick a merchant of the target region, proportionally to popularity, with
    # one searchsorted: merchants sorted by region occupy consecutive stretches
    # of one cumulative-popularity axis, and x is drawn inside the target's stretch.
    order = np.argsort(merchants.region, kind="stable")
    cdf = np.cumsum(merchants.popularity[order])
    n_regions = len(MERCHANT_REGIONS)
    mass = np.bincount(merchants.region, weights=merchants.popularity, minlength=n_regions)
    lo = np.concatenate([[0.0], np.cumsum(mass)[:-1]])
    hi = lo + mass
    # A region without merchants (tiny worlds) falls back to all merchants.
    empty = mass == 0
    lo[empty], hi[empty] = 0.0, cdf[-1]
    x = lo[target] + rng.random(n) * (hi[target] - lo[target])
    pos = np.minimum(np.searchsorted(cdf, x, side="right"), len(cdf) - 1)
    return order[pos]


def _draw_devices(
    rng: np.random.Generator, p_mobile: np.ndarray, category: np.ndarray
) -> np.ndarray:
    n = len(category)
    pos = rng.random(n) < _CAT_P_POS[category]
    mobile = rng.random(n) < p_mobile
    return np.where(pos, _POS, np.where(mobile, _MOBILE, _DESKTOP))


def _amounts(category: np.ndarray, spend: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Log-normal amount: the category's median, the customer's level, a standard-normal draw z."""
    log_amount = np.log(_CAT_MEDIAN[category]) + spend + _CAT_LOG_SD[category] * z
    return np.maximum(np.round(np.exp(log_amount), 2), 0.5)


def _distances(home: np.ndarray, region: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Skewed distance from home: a few km in the home region, far abroad."""
    same = region == home
    abroad = region >= _N_HOME
    log_median = np.where(same, np.log(6.0), np.where(abroad, np.log(1500.0), np.log(180.0)))
    log_sd = np.where(same, 0.9, np.where(abroad, 0.7, 0.5))
    return np.round(np.exp(log_median + log_sd * z), 1)


def _new_device(rng: np.random.Generator, device: np.ndarray, age: np.ndarray) -> np.ndarray:
    # Young accounts are still setting up their devices; a terminal is not the customer's device.
    p_new = 0.02 + 0.3 * np.exp(-age / 30.0)
    return (device != _POS) & (rng.random(len(device)) < p_new)


def _count_previous_24h(customer: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """For each transaction, the same customer's transactions with time in [t - 24 h, t).

    One combined key ``customer * span + t`` sorts by (customer, time); since
    ``span`` exceeds every time plus the window, a window never reaches into
    another customer's keys. Two binary searches per row give the count
    (searching the sorted keys themselves keeps memory access sequential).
    """
    span = int(seconds.max()) + _WINDOW_24H + 1
    key = customer.astype(np.int64) * span + seconds
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    start = np.searchsorted(sorted_key, sorted_key - _WINDOW_24H, side="left")
    stop = np.searchsorted(sorted_key, sorted_key, side="left")  # strictly earlier: ties excluded
    count = np.empty(len(key), dtype=np.int64)
    count[order] = stop - start
    return count


def _term_values(
    term: str, columns: Mapping[str, np.ndarray]
) -> np.ndarray:
    """Values of one continuous or binary pattern term; missing values count as typical (0)."""
    if term in _CONTINUOUS_TERMS:
        column, transform, centre, scale = _CONTINUOUS_TERMS[term]
        x = np.asarray(columns[column], dtype=np.float64)
        logged = np.log(x) if transform == "log" else np.log1p(x)
        z = (logged - centre) / scale
        return np.where(np.isnan(z), 0.0, z)
    if term == "night":
        return (np.asarray(columns["hour"]) < _NIGHT_HOURS).astype(np.float64)
    return np.asarray(columns[term], dtype=np.float64)


def _linear_score(pattern: str, columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """The pattern's linear predictor (no intercept) from raw columns and category codes."""
    coefs = FRAUD_PATTERNS[pattern]
    n = len(columns["hour"])
    score = np.zeros(n)
    # One-hot terms as a lookup: a coefficient per level, plus a trailing 0
    # that code -1 (missing) picks up.
    for prefix, levels, key in (
        ("category", MERCHANT_CATEGORIES, "category_code"),
        ("device", DEVICES, "device_code"),
    ):
        table = np.array([coefs.get(f"{prefix}:{lvl}", 0.0) for lvl in levels] + [0.0])
        score += table[columns[key]]
    for term, weight in coefs.items():  # a handful of terms
        if ":" not in term:
            score += weight * _term_values(term, columns)
    return score


def pattern_score(transactions: pd.DataFrame, pattern: str) -> np.ndarray:
    """Linear fraud score of each row under ``pattern`` (no intercept).

    ``s = sum_k w_k * x_k`` over the pattern's terms (:data:`FRAUD_PATTERNS`):
    continuous terms standardised with fixed reference centre and scale,
    binary and one-hot terms 0/1, missing values counted as 0 (typical). The
    world drew ``is_fraud`` with ``P = sigmoid(b + s)`` from the values before
    outliers and missing cells were injected, so on such rows the score here
    differs from the one used for drawing.

    Parameters
    ----------
    transactions : DataFrame with the columns of ``World.transactions``
        (at least amount, hour, device, distance_km, account_age_days,
        tx_count_24h, is_foreign, is_new_device, merchant_category).
    pattern : str
        A key of :data:`FRAUD_PATTERNS`.

    Returns
    -------
    np.ndarray of shape (len(transactions),)

    Examples
    --------
    >>> w = make_world(seed=0, n_transactions=20_000, n_customers=2_000)
    >>> tx = w.transactions
    >>> s = pattern_score(tx, "stolen_card")
    >>> bool(s[tx["is_fraud"] == 1].mean() > s[tx["is_fraud"] == 0].mean())
    True
    """
    if pattern not in FRAUD_PATTERNS:
        raise ValueError(f"pattern: expected one of {sorted(FRAUD_PATTERNS)}, got {pattern!r}")
    _check_pattern_terms(pattern)
    tx = transactions

    def codes(column: str, levels: tuple[str, ...]) -> np.ndarray:
        # Re-code against the world's level list, whatever the frame's categories.
        return pd.Categorical(tx[column], categories=list(levels)).codes.astype(np.int64)

    columns = {
        "amount": tx["amount"].to_numpy(np.float64),
        "hour": tx["hour"].to_numpy(),
        "distance_km": tx["distance_km"].to_numpy(np.float64),
        "account_age_days": tx["account_age_days"].to_numpy(np.float64),
        "tx_count_24h": tx["tx_count_24h"].to_numpy(np.float64),
        "is_foreign": tx["is_foreign"].to_numpy(bool),
        "is_new_device": tx["is_new_device"].to_numpy(bool),
        "category_code": codes("merchant_category", MERCHANT_CATEGORIES),
        "device_code": codes("device", DEVICES),
    }
    return _linear_score(pattern, columns)


def _regime_patterns(config: WorldConfig) -> list[str]:
    """The pattern of each regime: regime 0 before the first drift event, then one per event."""
    return [config.initial_pattern, *(event.pattern for event in config.drift)]


def _regimes(config: WorldConfig, day: np.ndarray) -> np.ndarray:
    """Regime of every transaction: how many drift events happened on or before its day."""
    event_days = np.array([event.day for event in config.drift], dtype=np.int64)
    return np.searchsorted(event_days, day, side="right")


def _solve_intercepts(
    score: np.ndarray, regime: np.ndarray, n_regimes: int, target: float
) -> np.ndarray:
    """Per regime, the intercept b with mean(sigmoid(b + score)) = target.

    Vectorised bisection: all regimes at once, the mean per regime by
    ``np.bincount``. The mean grows with b, and it lies between
    sigmoid(b + min score) and sigmoid(b + max score), so b lies in
    [logit(target) - max score, logit(target) - min score]; 36 halvings of
    that bracket pin b far below any sampling error.
    """
    counts = np.maximum(np.bincount(regime, minlength=n_regimes), 1)
    logit = math.log(target / (1.0 - target))
    low = np.full(n_regimes, logit - score.max() - 1.0)
    high = np.full(n_regimes, logit - score.min() + 1.0)
    for _ in range(36):
        mid = (low + high) / 2
        p = _sigmoid(mid[regime] + score)
        mean = np.bincount(regime, weights=p, minlength=n_regimes) / counts
        too_high = mean > target
        high = np.where(too_high, mid, high)
        low = np.where(too_high, low, mid)
    return (low + high) / 2


@dataclass
class _Draft:
    """Per-transaction arrays while the world is being drawn (codes, not labels)."""

    customer: np.ndarray
    seconds: np.ndarray
    day: np.ndarray
    hour: np.ndarray
    merchant: np.ndarray
    device: np.ndarray  # code into DEVICES, -1 = missing
    z_amount: np.ndarray  # the standard-normal draw behind the amount
    amount: np.ndarray
    z_distance: np.ndarray  # the standard-normal draw behind the distance
    distance: np.ndarray
    account_age: np.ndarray
    is_new_device: np.ndarray
    tx_count: np.ndarray

    def columns(self, merchants: _Merchants) -> dict[str, np.ndarray]:
        """The raw inputs of :func:`_linear_score`."""
        return {
            "amount": self.amount,
            "hour": self.hour,
            "distance_km": self.distance,
            "account_age_days": self.account_age,
            "tx_count_24h": self.tx_count,
            "is_foreign": merchants.region[self.merchant] >= _N_HOME,
            "is_new_device": self.is_new_device,
            "category_code": merchants.category[self.merchant],
            "device_code": self.device,
        }


def _draw_transactions(
    rng: dict[str, np.random.Generator], config: WorldConfig, cust: _Customers, merch: _Merchants
) -> _Draft:
    """Step 3: who buys when, where, on which device, how much, how far from home."""
    n = config.n_transactions
    customer, seconds = _draw_sessions(rng["sessions"], config, cust)
    day = seconds // _SECONDS_PER_DAY
    merchant = _choose_merchants(rng["merchant_choice"], cust, merch, customer)
    category = merch.category[merchant]
    device = _draw_devices(rng["devices"], cust.p_mobile[customer], category)
    account_age = (cust.age0[customer] + day).astype(np.float64)
    z_amount = rng["amounts"].standard_normal(n)
    z_distance = rng["distances"].standard_normal(n)
    return _Draft(
        customer=customer,
        seconds=seconds,
        day=day,
        hour=(seconds // 3600) % 24,
        merchant=merchant,
        device=device,
        z_amount=z_amount,
        amount=_amounts(category, cust.spend[customer], z_amount),
        z_distance=z_distance,
        distance=_distances(cust.home[customer], merch.region[merchant], z_distance),
        account_age=account_age,
        is_new_device=_new_device(rng["devices"], device, account_age),
        tx_count=_count_previous_24h(customer, seconds),
    )


def _draw_fraud(
    rng: np.random.Generator, config: WorldConfig, draft: _Draft, merch: _Merchants, group: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Step 4: regime, pattern score, fraud probability and is_fraud of every transaction.

    ``group`` holds the group code of each transaction's customer; it enters
    only through ``config.group_fraud_odds`` (no term at all when that is empty), and
    the merchant's segment only through ``config.segment_fraud_odds`` (likewise).
    """
    regime = _regimes(config, draft.day)
    patterns = _regime_patterns(config)
    columns = draft.columns(merch)
    # Each transaction is scored under the pattern of its own regime.
    score = np.zeros(len(regime))
    for k, pattern in enumerate(patterns):  # a handful of regimes
        in_regime = regime == k
        if in_regime.any():
            score[in_regime] = _linear_score(pattern, columns)[in_regime]
    # True base rates that differ by group: log(odds) added to the linear predictor. The returned
    # score stays the pattern's own (hard negatives are picked by it, whatever the group).
    linear = score
    if config.group_fraud_odds:
        log_odds = np.log([config.group_fraud_odds.get(g, 1.0) for g in config.group_shares])
        linear = score + log_odds[group]
    if config.segment_fraud_odds:  # fraud concentrated in rare segments (no term at all by default)
        linear = linear + _segment_log_odds(config, columns["category_code"], merch.region[draft.merchant])
    intercept = _solve_intercepts(linear, regime, len(patterns), config.fraud_rate)
    probability = _sigmoid(intercept[regime] + linear)
    is_fraud = rng.random(len(regime)) < probability
    return regime, score, probability, is_fraud


def _make_hard_negatives(
    rng: np.random.Generator,
    config: WorldConfig,
    draft: _Draft,
    cust: _Customers,
    merch: _Merchants,
    regime: np.ndarray,
    score: np.ndarray,
    is_fraud: np.ndarray,
) -> np.ndarray:
    """Step 5: pick hard negatives and push them towards their regime's pattern (in place)."""
    patterns = _regime_patterns(config)
    hard = _pick_hard_negatives(rng, config.hard_negative_rate, score, is_fraud)
    for k, pattern in enumerate(patterns):
        rows = hard[regime[hard] == k]
        if len(rows):
            _push_towards_pattern(rng, pattern, rows, draft, cust, merch)
    is_hard_negative = np.zeros(len(score), dtype=bool)
    is_hard_negative[hard] = True
    return is_hard_negative


def _inject_data_problems(
    rng: dict[str, np.random.Generator], config: WorldConfig, draft: _Draft
) -> None:
    """Step 6, in place and after the label: outliers carry no fraud signal, cells go
    missing completely at random."""
    n = len(draft.amount)
    outlier = rng["outliers"].random(n) < config.outlier_rate
    factor = 10 ** rng["outliers"].uniform(1.0, 2.5, n)  # x10 .. x316
    draft.amount = np.where(outlier, np.round(draft.amount * factor, 2), draft.amount)
    miss = rng["missing"]
    draft.distance = np.where(miss.random(n) < config.missing_rate, np.nan, draft.distance)
    draft.account_age = np.where(miss.random(n) < config.missing_rate, np.nan, draft.account_age)
    draft.device = np.where(miss.random(n) < config.missing_rate, -1, draft.device)


def _generate(config: WorldConfig, seed: int) -> World:
    children = np.random.SeedSequence(seed).spawn(len(_COMPONENTS))
    rng = {name: np.random.default_rng(child) for name, child in zip(_COMPONENTS, children)}

    cust = _make_customers(rng["customers"], config)  # step 1
    if config.group_proxy_strength > 0:  # no draw at all by default: the default world stays as it was
        _add_group_proxies(rng["proxies"], config.group_proxy_strength, cust)
    merch = _make_merchants(rng["merchants"], config.n_merchants)  # step 2
    draft = _draw_transactions(rng, config, cust, merch)  # step 3
    group = cust.group[draft.customer]
    regime, score, probability, is_fraud = _draw_fraud(rng["fraud"], config, draft, merch, group)
    is_hard_negative = _make_hard_negatives(
        rng["hard_negatives"], config, draft, cust, merch, regime, score, is_fraud
    )
    _inject_data_problems(rng, config, draft)
    noise = _noise(rng["noise"], config.n_noise_features, len(draft.day))

    # Step 7: what the platform observes.
    observed = {
        **_observe_labels(rng["labels"], config, group, draft.day, is_fraud),
        **_analyst_reviews(rng["reviews"], config, is_fraud),
        **_disputes(rng["disputes"], config, draft.day, is_fraud),
    }
    # Codes into the full list of FRAUD_PATTERNS, so every world has the same categories.
    regime_to_code = np.array([list(FRAUD_PATTERNS).index(p) for p in _regime_patterns(config)])
    pattern_code = regime_to_code[regime]
    truth = {
        "fraud_pattern": _categorical(pattern_code, FRAUD_PATTERNS),
        "is_fraud": is_fraud.astype(np.int64),
        "fraud_probability": probability,
        "is_hard_negative": is_hard_negative,
    }
    transactions = _transactions_frame(config, draft, merch, group, noise, truth, observed)
    customers = _customers_frame(config, cust)
    return World(config, seed, customers, _merchants_frame(merch), transactions)


def _transactions_frame(
    config: WorldConfig,
    draft: _Draft,
    merch: _Merchants,
    group: np.ndarray,
    noise: list[np.ndarray],
    truth: dict[str, Any],
    observed: dict[str, np.ndarray],
) -> pd.DataFrame:
    start = np.datetime64(config.start_date, "s")
    region = merch.region[draft.merchant]
    return pd.DataFrame(
        {
            "transaction_id": np.arange(len(draft.day), dtype=np.int64),
            "timestamp": (start + draft.seconds.astype("timedelta64[s]")).astype("datetime64[ns]"),
            "day": draft.day.astype(np.int64),
            "hour": draft.hour.astype(np.int64),
            "customer_id": draft.customer.astype(np.int64),
            "customer_group": _categorical(group, config.group_shares),
            "merchant_id": draft.merchant.astype(np.int64),
            "merchant_category": _categorical(merch.category[draft.merchant], MERCHANT_CATEGORIES),
            "merchant_region": _categorical(region, MERCHANT_REGIONS),
            "device": _categorical(draft.device, DEVICES),
            "amount": draft.amount,
            "distance_km": draft.distance,
            "account_age_days": draft.account_age,
            "tx_count_24h": draft.tx_count,
            "is_foreign": region >= _N_HOME,
            "is_new_device": draft.is_new_device,
            **{f"noise_{j}": column for j, column in enumerate(noise)},
            **truth,
            **observed,
        }
    )


def _customers_frame(config: WorldConfig, cust: _Customers) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": np.arange(config.n_customers, dtype=np.int64),
            "customer_group": _categorical(cust.group, config.group_shares),
            "home_region": _categorical(cust.home, HOME_REGIONS),
            "account_age_days": cust.age0,
        }
    )


def _merchants_frame(merch: _Merchants) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "merchant_id": np.arange(len(merch.category), dtype=np.int64),
            "merchant_category": _categorical(merch.category, MERCHANT_CATEGORIES),
            "merchant_region": _categorical(merch.region, MERCHANT_REGIONS),
        }
    )


def _categorical(codes: np.ndarray, categories: Any) -> pd.Categorical:
    # from_codes skips hashing strings: fast, and code -1 means missing.
    return pd.Categorical.from_codes(codes.astype(np.int64), categories=list(categories))


def _pick_hard_negatives(
    rng: np.random.Generator, rate: float, score: np.ndarray, is_fraud: np.ndarray
) -> np.ndarray:
    """``rate`` of the legit rows, tilted towards rows that already score high."""
    legit = np.flatnonzero(~is_fraud)
    k = int(round(rate * len(legit)))
    if k == 0:
        return legit[:0]
    # Weight exp(score): a row scoring 1 higher is about e = 2.7 times likelier
    # to be picked. Subtracting the max keeps exp() from overflowing.
    s = score[legit]
    picked = _weighted_sample_without_replacement(rng, np.exp(s - s.max()), k)
    return np.sort(legit[picked])


def _push_towards_pattern(
    rng: np.random.Generator,
    pattern: str,
    rows: np.ndarray,
    draft: _Draft,
    cust: _Customers,
    merch: _Merchants,
) -> None:
    """Move the features of ``rows`` (in place) in the direction of the pattern's coefficients.

    Time, velocity and account age stay as they are (changing them would
    break the customer's history); the pattern's taste in those was already
    used when the rows were picked.
    """
    coefs = FRAUD_PATTERNS[pattern]
    m = len(rows)
    # A merchant the pattern likes: popularity times exp(category and foreign coefficients).
    cat_coef = np.array([coefs.get(f"category:{c}", 0.0) for c in MERCHANT_CATEGORIES])
    is_foreign = merch.region >= _N_HOME
    merchant_score = cat_coef[merch.category] + coefs.get("is_foreign", 0.0) * is_foreign
    if np.any(merchant_score != 0):
        weights = merch.popularity * np.exp(merchant_score - merchant_score.max())
        draft.merchant[rows] = _sample_index(rng, weights, m)
    merchant = draft.merchant[rows]
    category = merch.category[merchant]
    customer = draft.customer[rows]
    # Same personal draws z, new merchant; then a shift of `coefficient` standard
    # units along the term (card testing, -0.6 on log_amount: amounts halve).
    shift = coefs.get("log_amount", 0.0) * _CONTINUOUS_TERMS["log_amount"][3]
    amount = _amounts(category, cust.spend[customer], draft.z_amount[rows]) * np.exp(shift)
    draft.amount[rows] = np.maximum(np.round(amount, 2), 0.5)
    shift = coefs.get("log_distance", 0.0) * _CONTINUOUS_TERMS["log_distance"][3]
    distance = _distances(cust.home[customer], merch.region[merchant], draft.z_distance[rows])
    draft.distance[rows] = np.round(distance * np.exp(shift), 1)
    # The device the pattern likes best (mobile or desktop), for 70% of the rows.
    device = draft.device[rows]
    device_coef = np.array([coefs.get(f"device:{d}", 0.0) for d in DEVICES[:2]])
    if device_coef.max() > 0:
        device = np.where(rng.random(m) < 0.7, int(np.argmax(device_coef)), device)
    # Online-only merchants have no card terminal.
    device = np.where((device == _POS) & (_CAT_P_POS[category] == 0.0), _MOBILE, device)
    draft.device[rows] = device
    new_device = draft.is_new_device[rows]
    if coefs.get("is_new_device", 0.0) > 0:
        new_device = new_device | (rng.random(m) < 0.7)
    draft.is_new_device[rows] = new_device & (device != _POS)  # a terminal is never "new"


def _noise(rng: np.random.Generator, k: int, n: int) -> list[np.ndarray]:
    """``k`` pure-noise columns of varied shapes (a noise column may look like a real feature)."""
    makers = (
        lambda: rng.standard_normal(n),
        lambda: rng.random(n),
        lambda: rng.lognormal(0.0, 1.0, n),
        lambda: rng.standard_t(3.0, n),
    )
    return [makers[j % 4]() for j in range(k)]


def _observe_labels(
    rng: np.random.Generator,
    config: WorldConfig,
    group: np.ndarray,
    day: np.ndarray,
    is_fraud: np.ndarray,
) -> dict[str, np.ndarray]:
    """Labeled set, observed labels and the day each label arrives."""
    n = len(group)
    names = list(config.group_shares)
    sampling = np.array([config.group_label_sampling.get(g, 1.0) for g in names])
    report = np.array([config.chargeback_report_rate[g] for g in names])

    k = int(round(config.labeled_fraction * n))
    in_labeled = np.zeros(n, dtype=bool)
    in_labeled[_weighted_sample_without_replacement(rng, sampling[group], k)] = True

    # A fraud becomes a "1" only if a chargeback reports it; unreported fraud
    # looks legit. Then a few labels flip (data-entry and process errors).
    reported = is_fraud & (rng.random(n) < report[group])
    flipped = rng.random(n) < config.label_noise
    observed = reported ^ flipped
    # Chargebacks: Gamma(2) delays with the configured mean, in whole days (>= 1).
    chargeback = np.maximum(np.rint(rng.gamma(2.0, config.chargeback_delay_days / 2.0, n)), 1.0)
    delay = np.where(observed, chargeback, float(SETTLEMENT_DELAY_DAYS))
    return {
        "in_labeled_set": in_labeled,
        "label": np.where(in_labeled, observed.astype(np.float64), np.nan),
        "label_day": np.where(in_labeled, day + delay, np.nan),
    }


def _analyst_reviews(
    rng: np.random.Generator, config: WorldConfig, is_fraud: np.ndarray
) -> dict[str, np.ndarray]:
    """Explicit feedback: a random audit, independent of group and labeled set."""
    n = len(is_fraud)
    reviewed = rng.random(n) < config.review_rate
    right = rng.random(n) < config.review_accuracy
    verdict = np.where(right, is_fraud, ~is_fraud).astype(np.float64)
    return {"reviewed": reviewed, "review_label": np.where(reviewed, verdict, np.nan)}


def _disputes(
    rng: np.random.Generator, config: WorldConfig, day: np.ndarray, is_fraud: np.ndarray
) -> dict[str, np.ndarray]:
    """Implicit feedback: victims dispute fraud soon; some legit purchases get disputed too."""
    n = len(is_fraud)
    p = np.where(is_fraud, config.dispute_rate_fraud, config.dispute_rate_legit)
    disputed = rng.random(n) < p
    mean_delay = np.where(is_fraud, _DISPUTE_DELAY_FRAUD_DAYS, _DISPUTE_DELAY_LEGIT_DAYS)
    delay = 1.0 + np.floor(rng.exponential(1.0, n) * mean_delay)
    return {"disputed": disputed, "dispute_day": np.where(disputed, day + delay, np.nan)}
