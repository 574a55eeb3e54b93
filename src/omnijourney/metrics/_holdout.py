"""Hold-out groups ("blind zones"): stable assignment, power, contamination and lift.

A hold-out is a random share of customers (or stores) kept from all marketing pressure, so
that what the pressure returns can be measured against them. The assignment must never move a
customer from one group to the other as new customers arrive, so it is a function of the
customer id alone: a keyed BLAKE2b hash of the id (RFC 7693), read as a number in [0, 1).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, Literal

import attrs
import numpy as np

from omnijourney._display import TableResult
from omnijourney._validation import check_choice, check_fraction
from omnijourney.errors import ConfigError, OmnijourneyWarning
from omnijourney.metrics._compare import Comparison, compare
from omnijourney.metrics._results import result_eq
from omnijourney.metrics._source import customer_mapping, group_codes
from omnijourney.tables import Table

__all__ = [
    "Contamination",
    "HoldoutAssignment",
    "assign_holdout",
    "contamination",
    "lift",
    "minimum_detectable_effect",
    "sample_size",
]

HOLDOUT = "holdout"
TARGET = "target"


def _key(value: Any) -> bytes:
    # the type is part of the key, so that the id 1 and the id "1" are different customers
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (str, int, np.integer)):
        msg = f"assign_holdout: customer ids must be strings or integers, got {value!r}"
        raise ConfigError(msg)
    return (f"s:{value}" if isinstance(value, str) else f"i:{int(value)}").encode()


def hash_uniform(ids: Sequence[Any], salt: str) -> np.ndarray:
    """A number in [0, 1) per id: the first 8 bytes of BLAKE2b(id, key=salt) over 2^64."""
    key = salt.encode()[:64]
    out = np.empty(len(ids), dtype=np.float64)
    for i, v in enumerate(ids):
        digest = hashlib.blake2b(_key(v), key=key, digest_size=8).digest()
        out[i] = int.from_bytes(digest, "big") / 2.0**64
    return out


@attrs.frozen(eq=False)
class HoldoutAssignment(TableResult):
    """Customers (or stores) assigned to the hold-out or the target group.

    Attributes
    ----------
    table : Table
        ``customer``, ``stratum``, ``group`` (``"holdout"`` or ``"target"``) and ``draw``
        (the hash of the id in [0, 1); with ``method="hash"``, hold-out iff ``draw < share``).
    share, salt, method
        How the groups were drawn.
    """

    __eq__ = result_eq

    table: Table
    share: float
    salt: str
    method: str

    def __len__(self) -> int:
        return len(self.table)

    def groups(self) -> dict[Any, str]:
        """Customer -> group, ready for ``compare(groups=...)``."""
        return dict(zip(self.table["customer"].tolist(), self.table["group"].tolist()))

    @property
    def holdout(self) -> np.ndarray:
        """Ids of the hold-out customers."""
        return self.table["customer"][self.table["group"] == HOLDOUT]

    def counts(self) -> Table:
        """Per stratum: customers, hold-out customers and the hold-out share."""
        strata = self.table["stratum"]
        group = self.table["group"]
        codes, labels = group_codes(strata)
        rows: dict[str, list[Any]] = {"stratum": [], "customers": [], "holdout": [], "share": []}
        for i, s in enumerate(labels.tolist()):
            sel = codes == i
            n_h = int((group[sel] == HOLDOUT).sum())
            rows["stratum"].append(s)
            rows["customers"].append(int(sel.sum()))
            rows["holdout"].append(n_h)
            rows["share"].append(n_h / max(int(sel.sum()), 1))
        return Table.from_columns(
            rows, kinds={"stratum": "category", "customers": "int", "holdout": "int"}
        )

    def summary(self) -> str:
        n = len(self.table)
        n_h = int((self.table["group"] == HOLDOUT).sum())
        return (
            f"{n_h:,} of {n:,} customers ({100 * n_h / max(n, 1):.1f}%) in the hold-out "
            f"(target share {100 * self.share:g}%, {self.method} assignment, salt {self.salt!r})"
        )

    def to_table(self) -> Table:
        """The result's table (``table``), as the exports hand it over."""
        return self.table

    def to_pandas(self) -> Any:
        return self.table.to_pandas()

    def __repr__(self) -> str:
        return "HoldoutAssignment: " + self.summary()


def _ids(customers: Any) -> np.ndarray:
    if isinstance(customers, Table):
        if "customer" not in customers.columns:
            msg = "assign_holdout: the table of customers needs a 'customer' column"
            raise ConfigError(msg)
        values = customers["customer"]
    elif isinstance(customers, (str, bytes)) or not hasattr(customers, "__iter__"):
        msg = f"assign_holdout: customers must be a sequence of ids, got {customers!r}"
        raise ConfigError(msg)
    else:
        values = np.asarray(list(customers), dtype=object)
    ids = np.empty(len(values), dtype=object)
    ids[:] = [v.item() if isinstance(v, np.generic) else v for v in values]
    if len(set(ids.tolist())) != ids.size:
        msg = "assign_holdout: customer ids must be distinct"
        raise ConfigError(msg)
    return ids


def assign_holdout(
    customers: Any,
    *,
    share: float = 0.05,
    salt: str = "omnijourney-holdout",
    strata: Any = None,
    method: Literal["hash", "blocks"] = "hash",
) -> HoldoutAssignment:
    """Assign customers (or stores) to a hold-out group, stably and reproducibly.

    Parameters
    ----------
    customers : sequence of ids, or a Table with a ``customer`` column
        With ``method="blocks"``, in order of arrival (first seen first).
    share : float
        Share of customers held out, in (0, 1); default 5%.
    salt : str
        Key of the hash: the seed of the assignment (another salt, another draw). Keep it to
        keep the groups.
    strata : mapping or table, optional
        Customer -> stratum (a segment, a region); balance is checked per stratum, and with
        ``method="blocks"`` enforced in each.
    method : {"hash", "blocks"}
        ``"hash"`` (default): hold-out iff the keyed hash of the id is below ``share``; a
        customer's group depends on its id only, so it never changes when customers are
        added, removed or reordered, and each stratum's share is binomial around ``share``.
        ``"blocks"``: in each stratum, customers are taken in the given order in blocks of
        ``q`` (``share = p / q`` as a fraction with ``q <= 100``), and ``p`` positions of each
        block, drawn by the hash of (salt, stratum, block, position), are held out; each
        stratum's share is exact up to one block, and a customer keeps its group as long as
        new customers are appended after it.

    Returns
    -------
    HoldoutAssignment

    Examples
    --------
    >>> a = assign_holdout([f"c{i}" for i in range(1000)], share=0.1, salt="2024-campaigns")
    >>> b = assign_holdout([f"c{i}" for i in range(1500)][::-1], share=0.1, salt="2024-campaigns")
    >>> sorted(a.holdout.tolist()) == sorted(h for h in b.holdout.tolist() if int(h[1:]) < 1000)
    True
    """
    share = check_fraction(share, "share", low_open=True, high_open=True)
    check_choice(method, "method", ("hash", "blocks"))
    if not isinstance(salt, str):
        msg = f"The 'salt' parameter must be a str. Got {salt!r} instead."
        raise ConfigError(msg)
    ids = _ids(customers)
    if strata is None:
        stratum = np.full(ids.size, None, dtype=object)
    else:
        s_ids, s_vals = customer_mapping(strata, "stratum", "assign_holdout", "strata")
        lookup = dict(zip(s_ids.tolist(), s_vals.tolist()))
        missing = [c for c in ids.tolist() if c not in lookup]
        if missing:
            msg = (
                f"assign_holdout: {len(missing):,} customers have no stratum (first: {missing[:5]})"
            )
            raise ConfigError(msg)
        stratum = np.array([lookup[c] for c in ids.tolist()], dtype=object)
    draw = hash_uniform(ids.tolist(), salt)
    if method == "hash":
        held = draw < share
    else:
        held = _blocks(ids, stratum, share, salt)
    group = np.where(held, HOLDOUT, TARGET).astype(object)
    table = Table.from_columns(
        {"customer": ids, "stratum": stratum, "group": group, "draw": draw},
        kinds={"customer": "category", "stratum": "category", "group": "category", "draw": "float"},
    )
    return HoldoutAssignment(table=table, share=share, salt=salt, method=method)


def _blocks(ids: np.ndarray, stratum: np.ndarray, share: float, salt: str) -> np.ndarray:
    frac = Fraction(share).limit_denominator(100)
    p, q = frac.numerator, frac.denominator
    if p == 0 or p == q:
        msg = f"assign_holdout: share={share} rounds to {frac} with blocks of at most 100"
        raise ConfigError(msg)
    held = np.zeros(ids.size, dtype=bool)
    codes, labels = group_codes(stratum)
    for s in range(max(labels.size, 1)):
        rows = np.flatnonzero(codes == s) if labels.size else np.arange(ids.size)
        n_blocks = -(-rows.size // q)
        tags = [
            f"{labels[s] if labels.size else ''}|{b}|{j}" for b in range(n_blocks) for j in range(q)
        ]
        keys = hash_uniform(tags, salt).reshape(n_blocks, q)
        rank = np.argsort(np.argsort(keys, axis=1), axis=1)  # rank of each position in its block
        chosen = (rank < p).ravel()[: rows.size]
        held[rows] = chosen
    return held


# --------------------------------------------------------------------------- power


def _z(alpha: float, power: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(1 - alpha / 2) + ndtri(power))


def _check_power(alpha: Any, power: Any, correlation: Any) -> None:
    check_fraction(alpha, "alpha", low_open=True, high_open=True)
    check_fraction(power, "power", low_open=True, high_open=True)
    if (
        isinstance(correlation, bool)
        or not isinstance(correlation, (int, float))
        or not -1 < correlation < 1
    ):
        msg = (
            f"The 'correlation' parameter must be a number in (-1, 1). Got {correlation!r} instead."
        )
        raise ConfigError(msg)


def minimum_detectable_effect(
    std: float,
    n_treated: int,
    n_control: int,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    correlation: float = 0.0,
) -> float:
    """Smallest difference of means a two-sided test detects with the given power.

    ``MDE = (z_{1 - alpha/2} + z_{power}) * std * sqrt(1 - rho^2) * sqrt(1/n_t + 1/n_c)``,
    where ``rho`` is the correlation with CUPED's pre-period covariate (0 without CUPED):
    CUPED multiplies the variance by ``1 - rho^2`` (Deng et al. 2013).

    Examples
    --------
    >>> round(minimum_detectable_effect(10.0, 9_500, 500), 3)
    1.285
    >>> round(minimum_detectable_effect(10.0, 9_500, 500, correlation=0.6), 3)
    1.028
    """
    _check_power(alpha, power, correlation)
    if not (isinstance(std, (int, float)) and std > 0):
        msg = f"The 'std' parameter must be a positive number. Got {std!r} instead."
        raise ConfigError(msg)
    for name, n in (("n_treated", n_treated), ("n_control", n_control)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
            msg = f"The {name!r} parameter must be an integer >= 2. Got {n!r} instead."
            raise ConfigError(msg)
    return float(
        _z(alpha, power)
        * std
        * np.sqrt(1 - correlation**2)
        * np.sqrt(1 / n_treated + 1 / n_control)
    )


def sample_size(
    effect: float,
    std: float,
    *,
    holdout_share: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
    correlation: float = 0.0,
) -> int:
    """Customers needed in all (target + hold-out) to detect ``effect`` (a difference of means).

    Examples
    --------
    >>> sample_size(1.0, 10.0, holdout_share=0.05)
    16524
    """
    _check_power(alpha, power, correlation)
    holdout_share = check_fraction(holdout_share, "holdout_share", low_open=True, high_open=True)
    if not (isinstance(effect, (int, float)) and effect != 0):
        msg = f"The 'effect' parameter must be a non-zero number. Got {effect!r} instead."
        raise ConfigError(msg)
    var = std**2 * (1 - correlation**2)
    n = _z(alpha, power) ** 2 * var * (1 / holdout_share + 1 / (1 - holdout_share)) / effect**2
    return int(np.ceil(n))


# --------------------------------------------------------------------------- contamination


@attrs.frozen(eq=False)
class Contamination(TableResult):
    """Hold-out customers who were contacted anyway.

    Attributes
    ----------
    holdout : int
        Hold-out customers.
    contacted : ndarray
        Ids of the hold-out customers with at least one contact.
    by_channel : Table
        ``channel``, ``touchpoints`` (contacts of hold-out customers), ``customers``.
    """

    __eq__ = result_eq

    holdout: int
    contacted: np.ndarray
    by_channel: Table

    @property
    def share(self) -> float:
        """Share of the hold-out that was contacted."""
        return self.contacted.size / self.holdout if self.holdout else float("nan")

    def summary(self) -> str:
        if self.contacted.size == 0:
            return f"None of the {self.holdout:,} hold-out customers was contacted."
        parts = ", ".join(
            f"{c} {n:,}"
            for c, n in zip(
                self.by_channel["channel"].tolist(), self.by_channel["customers"].tolist()
            )
        )
        return (
            f"{self.contacted.size:,} of {self.holdout:,} hold-out customers "
            f"({100 * self.share:.1f}%) were contacted anyway (customers per channel: {parts})."
        )

    def to_table(self) -> Table:
        """The result's table (``by_channel``), as the exports hand it over."""
        return self.by_channel

    def to_pandas(self) -> Any:
        return self.by_channel.to_pandas()

    def __repr__(self) -> str:
        return "Contamination: " + self.summary()


def contamination(
    journeys: Any,
    assignment: HoldoutAssignment | Any,
    *,
    start: Any = None,
    end: Any = None,
    channels: Any = None,
    tz: str = "UTC",
) -> Contamination:
    """Hold-out customers reached by marketing pressure anyway.

    A contact is a touchpoint whose ``direction`` is outbound (a message, a call from the
    brand), or that carries a ``campaign`` (a click on a campaign means it reached the
    customer), between ``start`` and ``end`` (default: all the data), on ``channels``
    (default: all).

    Parameters
    ----------
    journeys : JourneyTable
    assignment : HoldoutAssignment or mapping
        The assignment, or customer -> group with ``"holdout"`` for held-out customers.
    """
    from omnijourney.metrics._source import Source
    from omnijourney.time import to_datetime64

    src = Source(journeys, "contamination")
    if isinstance(assignment, HoldoutAssignment):
        held_ids = assignment.holdout
    else:
        ids, vals = customer_mapping(assignment, "group", "contamination", "assignment")
        held_ids = ids[np.array([str(v) == HOLDOUT for v in vals.tolist()], dtype=bool)]
    pos = src.customer_positions(held_ids, "the hold-out", strict=False)
    held = np.zeros(src.customer_labels.size, dtype=bool)
    held[pos[pos >= 0]] = True
    tp = src.tp
    contact = np.zeros(src.n, dtype=bool)
    if "direction" in tp.columns:
        labels = tp.labels("direction").tolist()
        out_code = labels.index("outbound")
        contact |= src.jt.in_order("direction") == out_code
    if "campaign" in tp.columns:
        contact |= src.jt.in_order("campaign") >= 0
    if "direction" not in tp.columns and "campaign" not in tp.columns:
        warnings.warn(
            "contamination: the touchpoints have neither a direction nor a campaign column, "
            "so no contact can be seen",
            OmnijourneyWarning,
            stacklevel=2,
        )
    if start is not None:
        contact &= src.time >= to_datetime64(start, tz=tz, name="start").astype(np.int64)
    if end is not None:
        contact &= src.time < to_datetime64(end, tz=tz, name="end").astype(np.int64)
    if channels is not None:
        wanted = {channels} if isinstance(channels, str) else set(channels)
        unknown = wanted - set(src.channel_labels.tolist())
        if unknown:
            msg = f"contamination: unknown channels {sorted(unknown)}; channels are {src.channel_labels.tolist()}"
            raise ConfigError(msg)
        contact &= np.isin(
            src.channel, [i for i, c in enumerate(src.channel_labels) if c in wanted]
        )
    hit = contact & held[src.customer]
    rows = np.flatnonzero(hit)
    contacted = np.unique(src.customer[rows])
    n_ch = src.channel_labels.size
    touches = np.bincount(src.channel[rows], minlength=n_ch)
    pairs = np.unique(src.customer[rows].astype(np.int64) * n_ch + src.channel[rows])
    customers = np.bincount(pairs % n_ch, minlength=n_ch)
    used = np.flatnonzero(touches)
    by_channel = Table.from_columns(
        {
            "channel": src.channel_labels[used],
            "touchpoints": touches[used].astype(np.int64),
            "customers": customers[used].astype(np.int64),
        },
        kinds={"channel": "category"},
    )
    return Contamination(
        holdout=int(held_ids.size),
        contacted=src.customer_labels[contacted],
        by_channel=by_channel,
    )


def lift(
    journeys: Any,
    kpi: str,
    assignment: HoldoutAssignment | Any,
    **options: Any,
) -> Comparison:
    """The lift of marketing pressure on ``kpi``: the target group against the hold-out.

    A test/control comparison (:func:`compare`) of the target group (``treated``) against
    the hold-out (``control``); ``options`` are those of :func:`compare` (``period``,
    ``after``, ``covariate="before"`` for CUPED, ``n_resamples``, ``seed``...). The relative
    effect is the lift: (target - hold-out) / hold-out.
    """
    groups = assignment.groups() if isinstance(assignment, HoldoutAssignment) else assignment
    options.setdefault("treated", TARGET)
    options.setdefault("control", HOLDOUT)
    if (
        "design" not in options
        and options.get("before") is not None
        and options.get("covariate") is None
    ):
        options["design"] = "difference_in_differences"
    elif "design" not in options:
        options["design"] = "test_control"
    return compare(journeys, kpi, groups=groups, **options)
