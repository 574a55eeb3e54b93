"""Findings: one table for every rule, each row able to explain itself, and their summaries."""

from __future__ import annotations

import datetime as _dt
import warnings
from collections.abc import Sequence
from typing import Any, overload

import attrs
import numpy as np

from omnijourney import _format as fmt
from omnijourney._display import TableResult
from omnijourney.errors import ConfigError
from omnijourney.pricing._policy import RULES, Policy, measure_of
from omnijourney.tables import ColumnSpec, Table, code_dtype, factorize
from omnijourney.time import TIME_DTYPE

__all__ = ["Finding", "FindingTable", "Found", "PriceAudit"]

#: Rules whose findings concern one promotion (two for ``overlapping_promotions``).
PROMOTION_RULES = frozenset(
    RULES[RULES.index("promotion_without_price") : RULES.index("overlapping_promotions") + 1]
)
_NAT = np.iinfo(np.int64).min
_DAY = 86_400_000_000


def _full(value: Any, n: int, dtype: Any) -> np.ndarray:
    if value is None:
        value = np.nan if np.dtype(dtype).kind == "f" else -1
    arr = np.asarray(value)
    if arr.ndim == 0:
        return np.full(n, arr.item() if arr.dtype.kind != "O" else value, dtype=dtype)
    return arr.astype(dtype, copy=False)


@attrs.define(eq=False)
class Found:
    """Findings of one rule as arrays (codes into the audit's common dictionaries)."""

    rule: str
    sku: np.ndarray
    channel: np.ndarray
    location: np.ndarray
    start: np.ndarray
    end: np.ndarray
    expected: np.ndarray
    actual: np.ndarray
    at_stake: np.ndarray
    currency: np.ndarray
    other_channel: np.ndarray
    detail: np.ndarray
    severity: np.ndarray | None

    @classmethod
    def make(
        cls,
        rule: str,
        *,
        sku: Any,
        channel: Any,
        location: Any,
        start: Any,
        end: Any,
        expected: Any,
        actual: Any,
        at_stake: Any = None,
        currency: Any = None,
        other_channel: Any = None,
        detail: Any = None,
        severity: Any = None,
    ) -> Found:
        """Broadcast scalars to the length of ``sku``."""
        n = np.asarray(sku).size
        det = np.empty(n, dtype=object)
        if detail is None or isinstance(detail, str):
            det[:] = detail
        else:
            det[:] = list(detail)
        sev = None
        if severity is not None:
            sev = np.empty(n, dtype=object)
            sev[:] = severity if isinstance(severity, str) else list(severity)
        return cls(
            rule=rule,
            sku=_full(sku, n, np.int64),
            channel=_full(channel, n, np.int64),
            location=_full(location, n, np.int64),
            start=_full(start, n, np.int64),
            end=_full(end, n, np.int64),
            expected=_full(expected, n, np.float64),
            actual=_full(actual, n, np.float64),
            at_stake=_full(at_stake, n, np.float64),
            currency=_full(currency, n, np.int64),
            other_channel=_full(other_channel, n, np.int64),
            detail=det,
            severity=sev,
        )

    def __len__(self) -> int:
        return int(self.sku.size)


# --------------------------------------------------------------------------- record view


def _money(v: float | None, currency: str | None) -> str:
    if v is None:
        return "an unknown amount"
    return f"{v:.2f} {currency}" if currency else f"{v:.2f}"


def _when(t: _dt.datetime | None) -> str:
    if t is None:
        return "?"
    if t.hour == t.minute == t.second == t.microsecond == 0:
        return f"{t:%Y-%m-%d}"
    return f"{t:%Y-%m-%d %H:%M}"


def _num(v: float | None) -> str:
    return "?" if v is None else f"{v:g}"


@attrs.frozen
class Finding:
    """One finding: what rule, where, when, what was expected and what was found.

    ``expected`` and ``actual`` are in the unit of ``measure`` (``price`` in ``currency``,
    ``percent``, ``days`` or ``quantity``); ``at_stake`` is the money at stake per unit sold,
    where it has a meaning. :meth:`explain` says it in a sentence.
    """

    rule: str
    severity: str
    sku: Any
    channel: str
    location: str | None
    other_channel: str | None
    start: _dt.datetime | None
    end: _dt.datetime | None
    expected: float | None
    actual: float | None
    measure: str
    currency: str | None
    at_stake: float | None
    detail: str | None
    reference: str
    promotion: str | None = None

    def explain(self) -> str:
        """The finding in one sentence.

        Examples
        --------
        >>> import datetime as dt
        >>> utc = dt.timezone.utc
        >>> f = Finding(rule="prior_price_reference", severity="high", sku="A1",
        ...     channel="web", location="online", other_channel=None,
        ...     start=dt.datetime(2024, 5, 10, tzinfo=utc), end=dt.datetime(2024, 5, 17, tzinfo=utc),
        ...     expected=12.99, actual=19.99, measure="price", currency="EUR", at_stake=7.0,
        ...     detail=None, reference="Directive 98/6/EC art. 6a", promotion="P1")
        >>> print(f.explain())  # doctest: +NORMALIZE_WHITESPACE
        Promotion P1 showed A1 on web (online) as reduced from 19.99 EUR from 2024-05-10 to
        2024-05-17, but the lowest public price applied before the reduction (the prior price)
        was 12.99 EUR (Directive 98/6/EC art. 6a).
        """
        cur = self.currency
        e, a = self.expected, self.actual
        where = f"{self.channel} ({self.location})" if self.location else self.channel
        at = self.location or self.channel
        period = f"from {_when(self.start)} to {_when(self.end)}"
        sku, det = self.sku, self.detail
        if self.promotion is not None:
            det = self.promotion
        gap = None if e is None or a is None else abs(a - e)
        sentences = {
            "price_gap": f"{sku} had a regular price of {_money(a, cur)} on {where} {period}, "
            f"while the median of its same-price channels was {_money(e, cur)} "
            f"(a gap of {_money(gap, cur)}).",
            "channel_pair_gap": f"{sku} cost {_money(a, cur)} on {where} {period}, outside the "
            f"band allowed around its price on {self.other_channel} ({_money(e, cur)}).",
            "overlapping_prices": f"{sku} had two prices at once on {where} {period}: "
            f"{_money(e, cur)} and {_money(a, cur)} ({det}).",
            "coverage_hole": f"{sku} had no valid price on {where} {period} ({_num(a)} days).",
            "stale_price": f"The price of {sku} on {where} had not been confirmed for "
            f"{_num(a)} days when it stopped being current at {_when(self.end)} (limit "
            f"{_num(e)} days), so it was stale from {_when(self.start)}.",
            "below_map": f"{sku} was advertised at {_money(a, cur)} on {where} {period}, below "
            f"the minimum advertised price of {_money(e, cur)}.",
            "promotion_without_price": f"Promotion {det} for {sku} on {where} {period} has no "
            "price to be checked against (no price series, or no regular price at its start).",
            "promo_not_mirrored": f"Promotion {det} ({_money(e, cur)}) ran {period} on the "
            f"other channels but not on {where}, where {sku} stayed at {_money(a, cur)}.",
            "promo_not_applied": f"Promotion {det} announced {sku} at {_money(e, cur)} on "
            f"{where} {period}, but the price applied was up to {_money(a, cur)}.",
            "promo_not_below_regular": f"Promotion {det} priced {sku} at {_money(a, cur)} on "
            f"{where} {period}, not below its regular price of {_money(e, cur)}.",
            "promo_not_below_prior": f"Promotion {det} priced {sku} at {_money(a, cur)} on "
            f"{where} {period}, not below the prior price {_money(e, cur)}: the announced "
            "reduction is not one.",
            "prior_price_reference": f"Promotion {det} showed {sku} on {where} as reduced from "
            f"{_money(a, cur)} {period}, but the lowest public price applied before the "
            f"reduction (the prior price) was {_money(e, cur)} ({self.reference}).",
            "prior_price_percentage": f"Promotion {det} announced {_num(a)} % off {sku} on "
            f"{where} {period}, but the reduction from the reference price is {_num(e)} % "
            f"({self.reference}).",
            "prior_price_short_history": f"Promotion {det} announced a reduction on {sku} on "
            f"{where} {period} after {_num(a)} days on sale, fewer than the {_num(e)} days of "
            "the prior-price period.",
            "overlapping_promotions": f"Promotions {str(det).replace('|', ' and ')} overlap for "
            f"{_num(a)} days on {where} for {sku} {period} and may not be combined.",
            "stock_shown_unavailable": f"{sku} was shown as available at {at} {period} while "
            f"its stock was {_num(a)}.",
            "negative_stock": f"{sku} had a negative stock at {at} {period} (down to {_num(a)}).",
            "impossible_stock": f"{sku} had {_num(a)} units at {at} {period}, above the "
            f"possible maximum of {_num(e)}.",
            "stock_mismatch": f"{sku} at {at}: {self.channel} reported {_num(a)} units while "
            f"{self.other_channel} reported {_num(e)} {period}.",
        }
        return sentences.get(self.rule, f"{self.rule}: {sku} on {where} {period}.")


# --------------------------------------------------------------------------- summaries


def money_by_currency(amounts: np.ndarray, currency: np.ndarray, labels: np.ndarray) -> str:
    """The sum of ``amounts`` per currency (codes into ``labels``, -1 for none), largest
    first, as "12.00 EUR and 3.50 USD"; "" when every amount is NaN."""
    known = ~np.isnan(amounts)
    if not known.any():
        return ""
    codes = currency[known].astype(np.int64) + 1  # 0: no currency
    sums = np.bincount(codes, weights=amounts[known], minlength=labels.size + 1)
    used = np.bincount(codes, minlength=labels.size + 1) > 0
    parts = [
        fmt.money(sums[c], None if c == 0 else str(labels[c - 1]))
        for c in sorted(np.flatnonzero(used).tolist(), key=lambda c: -abs(sums[c]))
    ]
    return " and ".join(parts)


def _deprecated_summary(result: FindingTable | PriceAudit, by: str | Sequence[str]) -> Table:
    """``summary(by)``: the table, as before ``summary()`` returned text."""
    warnings.warn(
        "summary(by) returning a table is deprecated: summary() returns text; use "
        "summary_table(by) for the table",
        DeprecationWarning,
        stacklevel=3,
    )
    return result.summary_table(by)


def _describe(f: FindingTable, sel: np.ndarray) -> str:
    """ "3 findings (1 of high severity) on 2 skus over 12 days; 5.00 EUR at stake per unit
    sold" for the rows of ``f`` in ``sel``."""
    n = int(sel.sum())
    text = fmt.plural(n, "finding")
    severity = f.labels("severity").tolist()
    if "high" in severity:
        high = int((f.raw("severity")[sel] == severity.index("high")).sum())
        if high:
            text += f" ({'all' if high == n else fmt.count(high)} of high severity)"
    skus = np.unique(f.raw("sku")[sel])
    text += f" on {fmt.plural(int((skus >= 0).sum()), 'sku')}"
    start = f.raw("start").view(np.int64)[sel]
    end = f.raw("end").view(np.int64)[sel]
    timed = (start != _NAT) & (end != _NAT)
    if timed.any():
        text += f" over {fmt.plural(float((end - start)[timed].sum()) / _DAY, 'day')}"
    stake = money_by_currency(f.raw("at_stake")[sel], f.raw("currency")[sel], f.labels("currency"))
    return text + (f"; {stake} at stake per unit sold" if stake else "")


# --------------------------------------------------------------------------- table


class FindingTable(Table):
    """Every finding of an audit, one row each.

    Columns: ``rule``, ``severity`` (high, medium, low), ``sku``, ``channel``,
    ``location``, ``other_channel`` (the channel compared with, when there is one),
    ``start`` and ``end`` (the interval concerned, end exclusive), ``expected`` and
    ``actual`` (in the unit of ``measure``: price, percent, days or quantity), ``currency``,
    ``at_stake`` (money at stake per unit sold, NaN where it has no meaning), ``promotion``
    (the promotion id of a promotion finding; ``"P1|P2"`` for two promotions that overlap),
    ``detail`` (input rows, channels...) and ``reference`` (the legal or policy source).

    For promotion findings ``detail`` still repeats the promotion id, for code written before
    the ``promotion`` column existed; reading ``table["detail"]`` from a table that holds
    promotion findings raises a :class:`DeprecationWarning`: that copy will be removed.

    Rows are sorted by rule, sku, channel, location and start. ``table[i]`` is a
    :class:`Finding`; :meth:`explanations` gives every row as a sentence.

    Examples
    --------
    >>> import omnijourney as oj
    >>> prices = oj.pricing.PriceTable.from_columns({
    ...     "sku": ["A1", "A1", "A1"], "channel": ["web", "app", "store"],
    ...     "price": [10.0, 10.0, 11.0], "valid_from": ["2024-05-01"] * 3})
    >>> findings = oj.pricing.audit(prices, as_of="2024-05-11").findings
    >>> findings.counts()
    {'price_gap': 1}
    >>> f = findings[0]
    >>> f.channel, f.expected, f.actual, f.measure
    ('store', 10.0, 11.0, 'price')
    >>> findings.summary_table()["days"].tolist()
    [10.0]
    >>> print(findings.summary())
    1 finding on 1 sku over 10 days; 1.00 at stake per unit sold.
      price_gap: 1 finding on 1 sku over 10 days; 1.00 at stake per unit sold
    """

    table_name = "FindingTable"
    schema = (
        ColumnSpec("rule", "category", required=True, nullable=False, doc="rule"),
        ColumnSpec("severity", "category", doc="high, medium or low"),
        ColumnSpec("sku", "category", doc="product"),
        ColumnSpec("channel", "category", doc="channel"),
        ColumnSpec("location", "category", doc="location"),
        ColumnSpec("other_channel", "category", doc="channel compared with"),
        ColumnSpec("start", "time", doc="start"),
        ColumnSpec("end", "time", doc="end (exclusive)"),
        ColumnSpec("expected", "float", doc="what the rule expects"),
        ColumnSpec("actual", "float", doc="what was found"),
        ColumnSpec("measure", "category", doc="unit of expected and actual"),
        ColumnSpec("currency", "category", doc="currency of prices"),
        ColumnSpec("at_stake", "float", doc="money at stake per unit"),
        ColumnSpec("detail", "category", doc="input rows, channels..."),
        ColumnSpec("reference", "category", doc="legal or policy source"),
        ColumnSpec("promotion", "category", doc="promotion id(s) of a promotion finding"),
    )

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str) and key == "detail" and self._repeats_promotions():
            warnings.warn(
                "the promotion id of a promotion finding is in the 'promotion' column; reading "
                "it from 'detail' is deprecated and 'detail' will no longer repeat it",
                DeprecationWarning,
                stacklevel=2,
            )
        return super().__getitem__(key)

    def _repeats_promotions(self) -> bool:
        return "promotion" in self.columns and bool((self.raw("promotion") >= 0).any())

    def _record(self, i: int) -> Finding:
        return Finding(**self.row(i))

    def explanations(self) -> list[str]:
        """Each finding as a sentence, in row order."""
        return [finding.explain() for finding in self]

    def counts(self) -> dict[str, int]:
        """Number of findings per rule (rules with findings only)."""
        labels = self.labels("rule")
        counts = np.bincount(self.raw("rule").astype(np.int64), minlength=labels.size)
        return {str(labels[i]): int(counts[i]) for i in range(labels.size) if counts[i]}

    @overload
    def summary(self) -> str: ...
    @overload
    def summary(self, by: str | Sequence[str]) -> Table: ...
    def summary(self, by: str | Sequence[str] | None = None) -> str | Table:
        """The findings in plain language: how many, how severe, on how many skus, for how
        long and the money at stake per unit sold, in all and per rule.

        The table of these numbers is :meth:`summary_table`; ``summary(by)`` still returns
        it, with a :class:`DeprecationWarning`.
        """
        if by is not None:
            return _deprecated_summary(self, by)
        if len(self) == 0:
            return "No finding."
        rule = self.raw("rule")
        lines = [_describe(self, np.ones(len(self), dtype=bool)) + "."]
        for code in np.argsort(-np.bincount(rule.astype(np.int64)), kind="stable"):
            sel = rule == code
            if sel.any():
                lines.append(f"  {self.labels('rule')[code]}: {_describe(self, sel)}")
        return "\n".join(lines)

    def summary_table(self, by: str | Sequence[str] = "rule") -> Table:
        """Findings grouped by one or more category columns.

        Columns: the keys, ``findings``, ``high`` (findings of high severity), ``skus``
        (distinct), ``days`` (total duration) and ``at_stake`` (sum of the per-unit amounts);
        sorted by decreasing ``findings``.
        """
        keys = [by] if isinstance(by, str) else list(by)
        for k in keys:
            if k not in self.columns or self.kinds[k] != "category":
                msg = f"summary_table: 'by' must name category columns of {list(self.columns)}, got {k!r}"
                raise ConfigError(msg)
        n = len(self)
        codes = [self.raw(k).astype(np.int64) + 1 for k in keys]  # +1: nulls become 0
        group = np.zeros(n, dtype=np.int64)
        for k, c in zip(keys, codes):
            group = group * (self.labels(k).size + 1) + c
        uniq, inv = np.unique(group, return_inverse=True) if n else (np.zeros(0, np.int64), group)
        m = uniq.size
        start = self.raw("start").view(np.int64)
        end = self.raw("end").view(np.int64)
        dur = np.where((start == _NAT) | (end == _NAT), 0, end - start) / _DAY
        sev_labels = self.labels("severity").tolist()
        high = (self.raw("severity") == sev_labels.index("high")) if "high" in sev_labels else None
        stake = self.raw("at_stake")
        sku = self.raw("sku").astype(np.int64)
        pair = np.unique(inv * (self.labels("sku").size + 1) + sku + 1) if n else inv
        out: dict[str, Any] = {}
        rest = uniq.copy()
        for k in reversed(keys):
            base = self.labels(k).size + 1
            code = rest % base - 1
            rest //= base
            lab = np.empty(m, dtype=object)
            lab[:] = [None if c < 0 else self.labels(k)[c] for c in code.tolist()]
            out[k] = lab
        out = {k: out[k] for k in keys}
        out["findings"] = np.bincount(inv, minlength=m).astype(np.int64)
        out["high"] = (
            np.bincount(inv, weights=high, minlength=m).astype(np.int64)
            if high is not None
            else np.zeros(m, dtype=np.int64)
        )
        out["skus"] = np.bincount(pair // (self.labels("sku").size + 1), minlength=m).astype(
            np.int64
        )
        out["days"] = np.bincount(inv, weights=dur, minlength=m)
        out["at_stake"] = np.bincount(
            inv, weights=np.where(np.isnan(stake), 0.0, stake), minlength=m
        )
        table = Table.from_columns(out, kinds=dict.fromkeys(keys, "category"))
        return table[np.lexsort((np.arange(m), -out["findings"]))]

    @classmethod
    def assemble(
        cls,
        found: Sequence[Found],
        policy: Policy,
        *,
        sku_labels: np.ndarray,
        channel_labels: np.ndarray,
        location_labels: np.ndarray,
        currency_labels: np.ndarray,
    ) -> FindingTable:
        """Build the sorted table from the findings of each rule."""
        parts = [f for f in found if len(f)]
        n = sum(len(f) for f in parts)

        def cat(name: str) -> np.ndarray:
            if not parts:
                return np.zeros(0, dtype=np.int64)
            return np.concatenate([getattr(f, name) for f in parts])

        def text(values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            return factorize(arr)

        rules = [f.rule for f in parts for _ in range(len(f))]
        severity: list[Any] = []
        for f in parts:
            if f.severity is None:
                severity.extend([policy.severity(f.rule)] * len(f))
            else:
                severity.extend(f.severity.tolist())
        detail = cat("detail").tolist() if parts else []
        # the rules about promotions name theirs in `detail`: it gets its own column
        promotion = [d if r in PROMOTION_RULES else None for r, d in zip(rules, detail)]
        data: dict[str, np.ndarray] = {}
        labels: dict[str, np.ndarray] = {}
        for name, values in (("rule", rules), ("severity", severity)):
            data[name], labels[name] = text(values)
        for name, lab in (
            ("sku", sku_labels),
            ("channel", channel_labels),
            ("location", location_labels),
            ("other_channel", channel_labels),
        ):
            data[name] = cat(name).astype(code_dtype(lab.size))
            labels[name] = lab
        data["start"] = cat("start").astype(np.int64).view(TIME_DTYPE)
        data["end"] = cat("end").astype(np.int64).view(TIME_DTYPE)
        data["expected"] = cat("expected").astype(np.float64)
        data["actual"] = cat("actual").astype(np.float64)
        data["measure"], labels["measure"] = text([measure_of(r) for r in rules])
        data["currency"] = cat("currency").astype(code_dtype(currency_labels.size))
        labels["currency"] = currency_labels
        data["at_stake"] = cat("at_stake").astype(np.float64)
        data["detail"], labels["detail"] = text(detail)
        data["reference"], labels["reference"] = text([policy.reference(r) for r in rules])
        data["promotion"], labels["promotion"] = text(promotion)
        order = [s.name for s in cls.schema]
        table = cls.from_arrays({k: data[k] for k in order}, labels)
        assert len(table) == n
        return table.compact().sort(["rule", "sku", "channel", "location", "start"])


# --------------------------------------------------------------------------- the result


@attrs.frozen(repr=False)
class PriceAudit(TableResult):
    """The result of :func:`~omnijourney.pricing.audit`: findings, and what produced them.

    Attributes
    ----------
    findings : FindingTable
        One row per finding (``to_pandas()`` for a DataFrame).
    policy : Policy
        The policy the data was audited with.
    start, as_of : numpy.datetime64
        The period audited: open-ended prices run until ``as_of``.
    n_prices, n_promotions, n_stock : int
        Rows audited in each input table.
    n_series : int
        Price series (sku, channel, location, audience) audited.

    Round-trips through ``oj.to_json`` / ``oj.from_json``.

    Examples
    --------
    >>> import omnijourney as oj
    >>> prices = oj.pricing.PriceTable.from_columns({
    ...     "sku": ["A1", "A1"], "channel": ["web", "web"], "price": [5.0, 5.0],
    ...     "valid_from": ["2024-05-01", "2024-05-05"], "valid_to": ["2024-05-03", None]})
    >>> result = oj.pricing.audit(prices, as_of="2024-05-10")
    >>> result.counts()["coverage_hole"]
    1
    >>> print(result.explain(0))
    A1 had no valid price on web from 2024-05-03 to 2024-05-05 (2 days).
    >>> oj.from_json(oj.to_json(result), oj.pricing.PriceAudit) == result
    True
    """

    findings: FindingTable = attrs.field(eq=False)
    policy: Policy
    start: np.datetime64
    as_of: np.datetime64
    n_prices: int
    n_promotions: int
    n_stock: int
    n_series: int

    def __len__(self) -> int:
        return len(self.findings)

    def __getitem__(self, i: int) -> Finding:
        return self.findings[i]

    def to_table(self) -> Table:
        """The result's table (``findings``), as the exports hand it over."""
        return self.findings

    def to_pandas(self, **kwargs: Any) -> Any:
        """The findings as a pandas DataFrame (needs the ``pandas`` extra)."""
        return self.findings.to_pandas(**kwargs)

    def counts(self) -> dict[str, int]:
        """Findings per checked rule (0 for rules checked without findings)."""
        found = self.findings.counts()
        return {r: found.get(r, 0) for r in sorted(self.policy.rules | set(found))}

    @overload
    def summary(self) -> str: ...
    @overload
    def summary(self, by: str | Sequence[str]) -> Table: ...
    def summary(self, by: str | Sequence[str] | None = None) -> str | Table:
        """The audit in plain language: what was audited, over which period, and the
        findings in all and per rule (see :meth:`FindingTable.summary`).

        The table per rule is :meth:`summary_table` (or :meth:`by_rule`); ``summary(by)``
        still returns it, with a :class:`DeprecationWarning`.
        """
        if by is not None:
            return _deprecated_summary(self, by)
        head = (
            f"Audit of {fmt.plural(self.n_prices, 'price interval')} in "
            f"{fmt.plural(self.n_series, 'series', 'series')}, "
            f"{fmt.plural(self.n_promotions, 'promotion row')} and "
            f"{fmt.plural(self.n_stock, 'stock row')} from {fmt.timestamp(self.start)} to "
            f"{fmt.timestamp(self.as_of)}: "
        )
        text = self.findings.summary()
        return head + text[0].lower() + text[1:]

    def summary_table(self, by: str | Sequence[str] = "rule") -> Table:
        """Findings per rule (or per ``by`` columns); see :meth:`FindingTable.summary_table`."""
        return self.findings.summary_table(by)

    def by_rule(self) -> Table:
        """Findings, high-severity findings, skus, days and money at stake per rule."""
        return self.summary_table("rule")

    def by_channel(self) -> Table:
        """The same per rule and channel."""
        return self.summary_table(["rule", "channel"])

    def by_sku(self) -> Table:
        """The same per sku, most affected first."""
        return self.summary_table("sku")

    def explain(self, i: int) -> str:
        """Finding ``i`` in one sentence."""
        return self.findings[i].explain()

    def explanations(self) -> list[str]:
        """Every finding in one sentence, in row order."""
        return self.findings.explanations()

    def __repr__(self) -> str:
        counts = self.findings.counts()
        head = (
            f"PriceAudit({self.n_prices:,} price intervals in {self.n_series:,} series, "
            f"{self.n_promotions:,} promotion rows, {self.n_stock:,} stock rows; "
            f"{str(self.start)[:16]} to {str(self.as_of)[:16]}): {len(self):,} findings"
        )
        lines = [head] + [f"  {rule:<26} {n:>8,}" for rule, n in counts.items()]
        return "\n".join(lines)
