"""Data-quality report of customer records, and pairwise scores against a known truth."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from omnijourney.identity._arrays import distinct_per
from omnijourney.identity._normalize import STATUS
from omnijourney.tables import Table

if TYPE_CHECKING:
    from omnijourney.identity._resolution import Resolution

__all__ = ["PairwiseScores", "QualityReport", "pairwise_scores", "quality_report"]


@attrs.frozen
class PairwiseScores:
    """Precision, recall and F1 over record pairs (same cluster in the prediction / truth)."""

    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int


def pairwise_scores(predicted: Any, truth: Any) -> PairwiseScores:
    """Pairwise precision, recall and F1 of a partition against the true one.

    O(n log n): counts pairs through the contingency of (predicted, true) labels.

    Examples
    --------
    >>> s = pairwise_scores([1, 1, 1, 2], ["a", "a", "b", "b"])
    >>> round(s.precision, 3), s.recall, s.true_pairs, s.predicted_pairs
    (0.333, 0.5, 2, 3)
    """
    _, t = np.unique(np.asarray(truth), return_inverse=True)
    _, p = np.unique(np.asarray(predicted), return_inverse=True)
    t, p = t.reshape(-1).astype(np.int64), p.reshape(-1).astype(np.int64)
    _, both = np.unique(p * (int(t.max(initial=0)) + 1) + t, return_counts=True)
    tp = int((both * (both - 1) // 2).sum())
    pc, tc = np.bincount(p), np.bincount(t)
    pp, tt = int((pc * (pc - 1) // 2).sum()), int((tc * (tc - 1) // 2).sum())
    precision = tp / pp if pp else 1.0
    recall = tp / tt if tt else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairwiseScores(precision, recall, f1, tt, pp)


@attrs.frozen(eq=False)
class QualityReport:
    """Completeness and validity of the records, duplicates and placeholders.

    Attributes
    ----------
    fields : Table
        One row per (source, field): ``records``, ``filled``, ``valid``, ``invalid``,
        ``placeholder``, ``completeness`` (filled share) and ``validity`` (valid share of the
        filled values).
    sources : Table
        One row per source: ``records``, ``persons`` and ``duplicate_rate`` (share of its
        records that are a second record of a person in the same source).
    placeholders : Table
        Placeholder values found: ``field``, ``value``, ``records``.
    counts : dict
        ``records``, ``persons``, ``households``, ``records_without_identifier``.
    """

    fields: Table
    sources: Table
    placeholders: Table
    counts: dict[str, int]

    def summary(self) -> str:
        """Counts, and the fields whose values are least often valid."""
        c = self.counts
        lines = [
            f"QualityReport: {c['records']:,} records -> {c['persons']:,} persons -> "
            f"{c['households']:,} households; {c['records_without_identifier']:,} records "
            "without identifier"
        ]
        for i in np.argsort(self.fields["validity"], kind="stable")[:5].tolist():
            row = self.fields.row(i)
            lines.append(
                f"  {row['source']}/{row['field']}: {row['completeness']:.0%} filled, "
                f"{row['validity']:.0%} of them valid"
            )
        if len(self.placeholders):
            lines.append(f"  placeholder values: {len(self.placeholders):,}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary().splitlines()[0]

    def to_pandas(self) -> Any:
        """The per-field table (``fields``) as a pandas DataFrame (needs the ``pandas``
        extra)."""
        return self.fields.to_pandas()


def quality_report(resolution: Resolution) -> QualityReport:
    """The data-quality report of a resolution's records.

    Examples
    --------
    >>> from omnijourney.identity import CustomerRecordTable, resolve
    >>> recs = CustomerRecordTable.from_columns({
    ...     "source": ["web", "shop", "shop"], "record_id": ["W1", "S1", "S2"],
    ...     "email": ["zoe@mail.fr", "test@test.com", "zoe@mail.fr"]})
    >>> report = quality_report(resolve(recs))
    >>> report.counts["persons"], report.placeholders["value"].tolist()
    (2, ['test@test.com'])
    """
    res = resolution
    records = res.records
    norm = res.normalized()
    src = records.raw("source").astype(np.int64)
    labels = records.labels("source").tolist()
    n_src = len(labels)
    cols: dict[str, list[Any]] = {
        k: [] for k in ("source", "field", "records", "filled", "valid", "invalid", "placeholder")
    }
    for name in records.identifier_columns:
        f = norm.fields.get(name if name != "street_number" else "house_number")
        if f is None:
            continue
        status = f.status.astype(np.int64)
        counts = np.bincount(src * 4 + status, minlength=4 * n_src).reshape(n_src, 4)
        for s in range(n_src):
            cols["source"].append(labels[s])
            cols["field"].append(name)
            cols["records"].append(int(counts[s].sum()))
            cols["filled"].append(int(counts[s, 1:].sum()))
            cols["valid"].append(int(counts[s, 1]))
            cols["invalid"].append(int(counts[s, 2]))
            cols["placeholder"].append(int(counts[s, 3]))
    data: dict[str, Any] = {
        k: (np.array(v, dtype=np.int64) if k not in ("source", "field") else v)
        for k, v in cols.items()
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        data["completeness"] = np.where(data["records"] > 0, data["filled"] / data["records"], 0.0)
        data["validity"] = np.where(data["filled"] > 0, data["valid"] / data["filled"], 1.0)
    fields = Table.from_columns(data, kinds={"source": "category", "field": "category"})
    per_src = np.bincount(src, minlength=n_src)
    persons_src = distinct_per(src, res.person_id, n_src)
    sources = Table.from_columns(
        {
            "source": labels,
            "records": per_src.astype(np.int64),
            "persons": persons_src.astype(np.int64),
            "duplicate_rate": np.where(per_src > 0, 1 - persons_src / np.maximum(per_src, 1), 0.0),
        },
        kinds={"source": "category"},
    )
    ph: dict[str, list[Any]] = {"field": [], "value": [], "records": []}
    for name in records.identifier_columns:
        f = norm.fields.get(name if name != "street_number" else "house_number")
        if f is None:
            continue
        raw = records.raw(name).astype(np.int64)
        hit = (f.status == STATUS.index("placeholder")) & (raw >= 0)
        codes, n_found = np.unique(raw[hit], return_counts=True)
        for c, k in zip(codes.tolist(), n_found.tolist()):
            ph["field"].append(name)
            ph["value"].append(str(records.labels(name)[c]))
            ph["records"].append(int(k))
    placeholders = Table.from_columns(
        {**ph, "records": np.array(ph["records"], dtype=np.int64)},
        kinds={"field": "category", "value": "category"},
    )
    totals = {
        "records": res.n_records,
        "persons": res.n_persons,
        "households": res.n_households,
        "records_without_identifier": int(res.no_identifier.sum()),
    }
    return QualityReport(fields, sources, placeholders, totals)
