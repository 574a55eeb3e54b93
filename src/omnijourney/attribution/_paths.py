"""Path tables: aggregated channel sequences with their conversions, value and null counts.

A path table is the input of every attribution model. Paths are stored flat, as integer codes
into the sorted channel labels with offsets, so that models never loop over paths in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs
import numpy as np

from omnijourney._arrays import positions, run_ends, run_starts
from omnijourney._display import TableResult
from omnijourney._sums import group_sums, total
from omnijourney.attribution._canonical import canonical_groups, in_canonical_order
from omnijourney.attribution._encode import (
    channel_set,
    checked_counts,
    parse_ascii,
    parse_python,
    sorted_codes,
)
from omnijourney.attribution._pathdata import (
    COUNTS,
    FLAT,
    TABLE_EQ,
    arrays_of_state,
    checked_offsets,
    flat_state,
    from_flat,
    journey_arrays,
    legacy_tables,
    path_rows,
    path_steps,
)
from omnijourney.errors import ConfigError, DataError
from omnijourney.io import register_json_state
from omnijourney.tables import Table, concat

__all__ = ["PathTable"]

_TABLE = "PathTable"
EmptyPaths = Literal["error", "remove"]


@attrs.frozen(repr=False, init=False)
class PathTable(TableResult):
    """Paths of channels with their conversions, conversion value and non-converting count.

    Each row is a path (a sequence of channels, oldest first) and the number of journeys that
    followed it and converted (``conversions``), their value, and the number that did not
    convert (``nulls``). Rows may repeat a path; :meth:`aggregate` merges them. Build tables
    with :meth:`from_strings`, :meth:`from_sequences`, :meth:`from_codes`,
    :meth:`from_journeys` or :meth:`from_touchpoints`.

    A path table is made of two tables: :attr:`rows`, one row per path (``length``,
    ``conversions``, ``value``, ``nulls``), and :attr:`steps`, one row per step, path after
    path (``channel``, a category column, and ``time`` for tables of journeys). The arrays
    below read them.

    Attributes
    ----------
    rows : Table
        One row per path: its number of steps and its counts.
    steps : Table
        One row per step: its channel and, with times, the seconds to the journey's end.
    channels : ndarray of object
        Sorted distinct channel labels; ``codes`` index into them.
    codes : ndarray of int32
        Channel codes of every step, path after path.
    offsets : ndarray of int64
        ``codes[offsets[i]:offsets[i + 1]]`` is path ``i`` (length ``n_paths + 1``).
    conversions, value, nulls : ndarray of float64
        Per path: conversions, their total value, and non-converting journeys.
    times : ndarray of float64 or None
        Per step, the seconds from that touch to the end of its journey (the conversion for
        converting journeys); only tables with one journey per row carry times.

    Examples
    --------
    >>> from omnijourney.attribution import PathTable
    >>> pt = PathTable.from_strings(["email > web > store", "web", "web > web"],
    ...                             conversions=[2, 1, 0], value=[80.0, 20.0, 0.0],
    ...                             nulls=[1, 5, 3])
    >>> pt.n_paths, pt.channels.tolist(), pt.total_conversions
    (3, ['email', 'store', 'web'], 3.0)
    >>> pt.collapse_repeats().paths().tolist()
    ['email > web > store', 'web', 'web']
    >>> agg = pt.collapse_repeats().aggregate()  # canonical order: by length, then channels
    >>> agg.paths().tolist(), agg.nulls.tolist()
    (['web', 'email > web > store'], [8.0, 1.0])
    """

    rows: Table = attrs.field(eq=TABLE_EQ)
    steps: Table = attrs.field(eq=TABLE_EQ)
    _offsets: np.ndarray = attrs.field(init=False, eq=False, repr=False)

    def __init__(self, rows: Any = None, steps: Any = None, *arrays: Any, **named: Any) -> None:
        if isinstance(rows, Table) and isinstance(steps, Table) and not arrays and not named:
            self.__attrs_init__(rows, steps)
            return
        self.__attrs_init__(*legacy_tables([rows, steps, *arrays], named))

    def __attrs_post_init__(self) -> None:
        offsets = checked_offsets(self.rows, self.steps)
        object.__setattr__(self, "_offsets", offsets)

    @classmethod
    def _of(cls, **arrays: Any) -> PathTable:
        """A path table from its arrays (``channels``, ``codes``, ``offsets``...)."""
        return cls(*from_flat(**arrays))

    # ------------------------------------------------------------------ the arrays

    @property
    def channels(self) -> np.ndarray:
        """Sorted distinct channel labels (object); ``codes`` index into them."""
        return self.steps.labels("channel")

    @property
    def codes(self) -> np.ndarray:
        """Channel codes (int32) of every step, path after path."""
        return self.steps.raw("channel")

    @property
    def offsets(self) -> np.ndarray:
        """``codes[offsets[i]:offsets[i + 1]]`` is path ``i`` (``n_paths + 1`` values)."""
        return self._offsets

    @property
    def conversions(self) -> np.ndarray:
        """Conversions of each path (float64)."""
        return self.rows.raw("conversions")

    @property
    def value(self) -> np.ndarray:
        """Total conversion value of each path (float64)."""
        return self.rows.raw("value")

    @property
    def nulls(self) -> np.ndarray:
        """Non-converting journeys of each path (float64)."""
        return self.rows.raw("nulls")

    @property
    def times(self) -> np.ndarray | None:
        """Per step, the seconds from that touch to the end of its journey, or None."""
        return self.steps.raw("time") if "time" in self.steps.columns else None

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_codes(
        cls,
        codes: Any,
        offsets: Any,
        channels: Sequence[Any],
        conversions: Any,
        value: Any = None,
        nulls: Any = None,
        *,
        times: Any = None,
        collapse_repeats: bool = False,
        drop: Iterable[str] | None = None,
        keep: Iterable[str] | None = None,
        max_length: int | None = None,
    ) -> PathTable:
        """A path table from integer-encoded paths (the fastest constructor).

        Parameters
        ----------
        codes : array of int
            Channel code of every step, path after path; codes index ``channels``.
        offsets : array of int
            ``codes[offsets[i]:offsets[i + 1]]`` is path ``i``; ``offsets[0] == 0``.
        channels : sequence of str
            Channel names (need not be sorted; they are sorted and the codes remapped).
        conversions, value, nulls : array of float
            Per path; ``value`` and ``nulls`` default to zeros.
        times : array of float, optional
            Seconds from each step to the end of its journey.
        collapse_repeats, drop, keep, max_length
            Path options, see :meth:`transform`.
        """
        labels = np.empty(len(channels), dtype=object)
        labels[:] = [str(c) for c in channels]
        if np.unique(labels).size != labels.size:
            msg = f"{_TABLE}: channel names must be distinct, got {labels.tolist()}"
            raise ConfigError(msg)
        order = np.argsort(labels)
        rank = np.empty(order.size, dtype=np.int32)
        rank[order] = np.arange(order.size, dtype=np.int32)
        c = np.asarray(codes)
        if c.dtype.kind not in "iu":
            msg = f"{_TABLE}: codes must be integers, got dtype {c.dtype}"
            raise ConfigError(msg)
        if c.size and (c.min() < 0 or c.max() >= labels.size):
            bad = np.flatnonzero((c < 0) | (c >= labels.size))
            raise DataError(
                f"is not a code of the {labels.size} channels",
                table=_TABLE,
                column="codes",
                rows=bad.tolist(),
                values=c[bad[:5]].tolist(),
            )
        off = np.asarray(offsets, dtype=np.int64)
        n = off.size - 1
        table = cls._of(
            channels=labels[order],
            codes=(
                c.astype(np.int32, copy=False)  # labels already sorted: codes stay as given
                if np.array_equal(order, np.arange(order.size))
                else rank[c]
            ),
            offsets=off,
            conversions=checked_counts(conversions, n, "conversions", default=None),
            value=checked_counts(value, n, "value", default=0.0),
            nulls=checked_counts(nulls, n, "nulls", default=0.0),
            times=None if times is None else np.asarray(times, dtype=np.float64) + 0.0,
        )
        return table.transform(
            collapse_repeats=collapse_repeats, drop=drop, keep=keep, max_length=max_length
        )

    @classmethod
    def from_sequences(
        cls,
        sequences: Iterable[Sequence[Any]],
        conversions: Any,
        value: Any = None,
        nulls: Any = None,
        *,
        times: Iterable[Sequence[float]] | None = None,
        collapse_repeats: bool = False,
        drop: Iterable[str] | None = None,
        keep: Iterable[str] | None = None,
        max_length: int | None = None,
    ) -> PathTable:
        """A path table from lists of channel names (one list per path).

        ``times``, when given, holds for each path the seconds from each touch to the end of
        the journey (so that :func:`~omnijourney.attribution.time_decay` can weigh touches).

        Examples
        --------
        >>> pt = PathTable.from_sequences([["web", "store"], ["sms"]], conversions=[1, 0],
        ...                               nulls=[0, 2], times=[[3600.0, 0.0], [0.0]])
        >>> pt.paths().tolist(), pt.times.tolist()
        (['web > store', 'sms'], [3600.0, 0.0, 0.0])
        """
        seqs = [list(s) for s in sequences]
        lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
        flat = [str(x).strip() for s in seqs for x in s]
        bad = [i for i, s in enumerate(seqs) if any(not str(x).strip() for x in s)]
        if bad:
            raise DataError(
                "holds an empty channel name",
                table=_TABLE,
                column="path",
                rows=bad,
                values=[seqs[i] for i in bad[:5]],
            )
        codes, labels = sorted_codes(flat)
        offsets = np.zeros(len(seqs) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        t = None
        if times is not None:
            tl = [list(x) for x in times]
            if len(tl) != len(seqs) or any(len(a) != len(b) for a, b in zip(tl, seqs)):
                msg = f"{_TABLE}: times must have one value per touch of every path"
                raise ConfigError(msg)
            t = np.array([float(v) for x in tl for v in x], dtype=np.float64)
        return cls.from_codes(
            codes,
            offsets,
            labels.tolist(),
            conversions,
            value,
            nulls,
            times=t,
            collapse_repeats=collapse_repeats,
            drop=drop,
            keep=keep,
            max_length=max_length,
        )

    @classmethod
    def from_strings(
        cls,
        paths: Iterable[str],
        conversions: Any,
        value: Any = None,
        nulls: Any = None,
        *,
        sep: str = ">",
        collapse_repeats: bool = False,
        drop: Iterable[str] | None = None,
        keep: Iterable[str] | None = None,
        max_length: int | None = None,
    ) -> PathTable:
        """A path table from ``"a > b > c"`` strings with counts, as other tools export them.

        Channel names are stripped of surrounding white space. Rows are kept as given
        (repeated paths stay separate rows until :meth:`aggregate`).

        Parameters
        ----------
        paths : iterable of str
            One path per row, channels separated by ``sep``.
        conversions : array of float
            Conversions of each path.
        value : array of float, optional
            Total conversion value of each path (default 0).
        nulls : array of float, optional
            Journeys of each path that did not convert (default 0).
        sep : str
            Separator between channels (``">"`` by default; ``" > "`` works too).
        collapse_repeats, drop, keep, max_length
            Path options, see :meth:`transform`.

        Raises
        ------
        DataError
            An empty path or an empty channel name (``"a > > b"``), a negative, infinite or
            non-numeric count; the message names the column, the rows and the values.

        Examples
        --------
        >>> pt = PathTable.from_strings(["a>b", "b"], conversions=[1, 2], nulls=[3, 0])
        >>> pt.paths(sep=" > ").tolist(), pt.total_nulls
        (['a > b', 'b'], 3.0)
        """
        if not isinstance(sep, str) or not sep.strip():
            msg = f"sep must be a non-blank string, got {sep!r}"
            raise ConfigError(msg)
        texts = paths.tolist() if isinstance(paths, np.ndarray) else list(paths)
        if not all(map(str.__instancecheck__, texts)):
            not_str = [i for i, p in enumerate(texts) if not isinstance(p, str)]
            raise DataError(
                "is not a string",
                table=_TABLE,
                column="path",
                rows=not_str,
                values=[texts[i] for i in not_str[:5]],
            )
        fast = parse_ascii(texts, sep)
        codes, labels, offsets = fast if fast is not None else parse_python(texts, sep)
        n = len(texts)
        table = cls._of(
            channels=labels,
            codes=codes,
            offsets=offsets,
            conversions=checked_counts(conversions, n, "conversions", default=None),
            value=checked_counts(value, n, "value", default=0.0),
            nulls=checked_counts(nulls, n, "nulls", default=0.0),
        )
        return table.transform(
            collapse_repeats=collapse_repeats, drop=drop, keep=keep, max_length=max_length
        )

    @classmethod
    def from_journeys(
        cls,
        journeys: Any,
        *,
        where: Any = None,
        times: bool = False,
        aggregate: bool | None = None,
        collapse_repeats: bool = True,
        drop: Iterable[str] | None = None,
        keep: Iterable[str] | None = None,
        max_length: int | None = None,
    ) -> PathTable:
        """The paths of sessionized journeys, converting and non-converting.

        The path of a journey is the channel of each of its touchpoints in canonical
        (customer, time) order, the converting touchpoint included (so the channel where the
        sale happened closes the path). A converting journey counts one conversion with the
        journey's ``value``; a journey without conversion counts one null.

        Parameters
        ----------
        journeys : JourneyTable
            The result of :func:`~omnijourney.sessionize`.
        where : array of bool, optional
            Which journeys (rows of ``journeys.journeys``) to keep: a segment, a period...
        times : bool
            Keep the seconds from each touch to the end of its journey (needed by
            :func:`~omnijourney.attribution.time_decay`); rows are then journeys, not
            aggregated.
        aggregate : bool, optional
            Merge journeys with the same path into one row (default: yes, unless ``times``).
        collapse_repeats : bool
            Consecutive touches on the same channel form one step (default true: a web session
            of ten page views is one web step). With ``times``, a step keeps the time of its
            last touch.
        drop, keep, max_length
            Path options, see :meth:`transform`.

        Examples
        --------
        >>> import omnijourney as oj
        >>> tp = oj.TouchpointTable.from_columns({
        ...     "customer": ["a", "a", "a", "b"],
        ...     "time": ["2024-05-01T10:00", "2024-05-01T10:10", "2024-05-03", "2024-05-01"],
        ...     "channel": ["email", "web", "store", "web"],
        ...     "event": ["email_click", "product_view", "purchase", "product_view"],
        ...     "value": [None, None, 90.0, None]})
        >>> pt = PathTable.from_journeys(oj.sessionize(tp))
        >>> pt.paths().tolist(), pt.conversions.tolist(), pt.value.tolist(), pt.nulls.tolist()
        (['web', 'email > web > store'], [0.0, 1.0], [0.0, 90.0], [1.0, 0.0])
        """
        from omnijourney.journeys import JourneyTable

        if not isinstance(journeys, JourneyTable):
            msg = f"journeys must be a JourneyTable (from oj.sessionize), got {type(journeys).__name__}"
            raise ConfigError(msg)
        out = cls._of(**journey_arrays(journeys, where, times=times))
        if collapse_repeats:
            out = out.collapse_repeats()
        out = out.transform(drop=drop, keep=keep, max_length=max_length)
        if aggregate if aggregate is not None else not times:
            out = out.aggregate()
        return out.compact()

    @classmethod
    def from_touchpoints(
        cls,
        touchpoints: Any,
        rules: Any = None,
        *,
        as_of: Any = None,
        **options: Any,
    ) -> PathTable:
        """Sessionize touchpoints with ``rules``, then :meth:`from_journeys` (same options).

        Examples
        --------
        >>> import omnijourney as oj
        >>> world = oj.synth.generate(n_customers=50, seed=3, records=False, prices=False)
        >>> pt = PathTable.from_touchpoints(world.touchpoints)
        >>> pt.total_conversions > 0
        True
        """
        from omnijourney.journeys import sessionize

        return cls.from_journeys(sessionize(touchpoints, rules, as_of=as_of), **options)

    # ------------------------------------------------------------------ basic facts

    def __len__(self) -> int:
        return self.n_paths

    @property
    def n_paths(self) -> int:
        """Number of rows."""
        return int(self.offsets.size - 1)

    @property
    def n_channels(self) -> int:
        """Number of channel labels."""
        return int(self.channels.size)

    @property
    def lengths(self) -> np.ndarray:
        """Number of steps of each path."""
        return np.diff(self.offsets)

    @property
    def total_conversions(self) -> float:
        """Sum of conversions (the same bits in any row order)."""
        return total(self.conversions)

    @property
    def total_value(self) -> float:
        """Sum of conversion value (the same bits in any row order)."""
        return total(self.value)

    @property
    def total_nulls(self) -> float:
        """Sum of non-converting journeys (the same bits in any row order)."""
        return total(self.nulls)

    def path_index(self) -> np.ndarray:
        """Row of each step."""
        return np.repeat(np.arange(self.n_paths, dtype=np.int64), self.lengths)

    def paths(self, sep: str = " > ") -> np.ndarray:
        """Each path as a string of channel names joined by ``sep``.

        Raises
        ------
        DataError
            A channel name contains ``sep`` (the string could not be read back).
        """
        inside = [c for c in self.channels.tolist() if sep.strip() and sep.strip() in c]
        if inside:
            raise DataError(
                f"contains the separator {sep.strip()!r}; choose another sep",
                table=_TABLE,
                column="channel",
                rows=[self.channels.tolist().index(c) for c in inside],
                values=inside,
            )
        names = self.channels[self.codes].tolist()
        off = self.offsets.tolist()
        out = np.empty(self.n_paths, dtype=object)
        out[:] = [sep.join(names[a:b]) for a, b in zip(off[:-1], off[1:])]
        return out

    def to_table(self) -> Any:
        """An omnijourney :class:`~omnijourney.Table`: path (``"a > b"``), length and counts."""
        from omnijourney.tables import Table

        text = self.paths()
        labels, codes = np.unique(text.astype(str), return_inverse=True)
        return Table.from_arrays(
            {
                "path": codes.astype(np.int64),
                "length": self.lengths.astype(np.int64),
                "conversions": self.conversions,
                "value": self.value,
                "nulls": self.nulls,
            },
            {"path": labels.astype(object)},
        )

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame (needs the ``pandas`` extra)."""
        return self.to_table().to_pandas(categorical=False)

    def summary(self) -> str:
        """A few readable lines: rows, channels, totals and path lengths."""
        lengths = self.lengths
        mean = float(lengths.mean()) if lengths.size else 0.0
        return "\n".join(
            [
                f"PathTable: {self.n_paths:,} paths over {self.n_channels} channels "
                f"({', '.join(map(str, self.channels.tolist()[:12]))}"
                f"{', ...' if self.n_channels > 12 else ''})",
                f"  conversions {self.total_conversions:,.6g}, value {self.total_value:,.2f}, "
                f"nulls {self.total_nulls:,.6g}",
                f"  steps {self.codes.size:,}, mean length {mean:.2f}, longest "
                f"{int(lengths.max()) if lengths.size else 0}"
                + (", with times" if self.times is not None else ""),
            ]
        )

    def __repr__(self) -> str:
        return self.summary()

    # ------------------------------------------------------------------ derived tables

    def _with(self, **changes: Any) -> PathTable:
        """The table with some of its arrays replaced (the names of :data:`FLAT`); a table
        whose arrays are all kept is reused."""
        rows, steps = self.rows, self.steps
        if changes.keys() & {"offsets", *COUNTS}:
            off = changes.get("offsets")
            counts = [changes[k] if k in changes else getattr(self, k) for k in COUNTS]
            rows = path_rows(self.lengths if off is None else np.diff(off), *counts)
        if changes.keys() & {"channels", "codes", "times"}:
            arrays = [changes[k] if k in changes else getattr(self, k) for k in FLAT[:2]]
            steps = path_steps(arrays[0], arrays[1], changes.get("times", self.times))
        return PathTable(rows, steps)

    def take(self, rows: Any) -> PathTable:
        """The rows at ``rows`` (indices or a boolean mask), in that order."""
        idx = np.asarray(rows)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64)
        lengths = self.lengths[idx]
        steps = np.repeat(self.offsets[:-1][idx], lengths) + positions(lengths)
        return PathTable(self.rows.take(idx), self.steps.take(steps))

    def with_counts(self, conversions: Any, value: Any = None, nulls: Any = None) -> PathTable:
        """The same paths with other counts (``value`` and ``nulls`` default to the current)."""
        n = self.n_paths
        return self._with(
            conversions=checked_counts(conversions, n, "conversions", default=None),
            value=self.value if value is None else checked_counts(value, n, "value", default=None),
            nulls=self.nulls if nulls is None else checked_counts(nulls, n, "nulls", default=None),
        )

    def _keep_steps(self, keep: np.ndarray, empty: EmptyPaths, why: str) -> PathTable:
        new_len = np.bincount(self.path_index()[keep], minlength=self.n_paths)
        if empty != "remove" and (new_len == 0).any():
            rows = np.flatnonzero(new_len == 0)
            raise DataError(
                f"would be empty after {why}; pass empty='remove' to drop such paths",
                table=_TABLE,
                column="path",
                rows=rows.tolist(),
                values=self.take(rows[:5]).paths().tolist(),
            )
        return _raw(self, keep, new_len)

    def collapse_repeats(self) -> PathTable:
        """Merge consecutive touches on the same channel into one step (``a > a > b`` -> ``a > b``).

        With times, the merged step keeps the time of its last touch (the most recent).
        """
        if self.codes.size == 0:
            return self
        keep = run_ends(self.codes)
        keep[self.offsets[1:] - 1] = True  # the last step of a path is always kept
        return self._keep_steps(keep, "error", "collapsing repeats")

    def drop_channels(self, names: Iterable[str], *, empty: EmptyPaths = "error") -> PathTable:
        """Remove the touches of the named channels (e.g. ``["direct"]``) from every path.

        ``empty="remove"`` removes the paths left without any touch, with their counts: the
        result then attributes fewer conversions. By default such paths raise a
        :class:`~omnijourney.DataError`.
        """
        drop = channel_set(names, self.channels, "drop")
        keep = ~np.isin(self.codes, drop)
        return self._keep_steps(keep, empty, "dropping channels").compact()

    def keep_channels(self, names: Iterable[str], *, empty: EmptyPaths = "error") -> PathTable:
        """Keep only the touches of the named channels (see :meth:`drop_channels`)."""
        kept = channel_set(names, self.channels, "keep")
        return self._keep_steps(np.isin(self.codes, kept), empty, "keeping channels").compact()

    def truncate(self, max_length: int) -> PathTable:
        """Keep the last ``max_length`` steps of every path (the touches nearest the outcome)."""
        if not isinstance(max_length, (int, np.integer)) or max_length < 1:
            msg = f"max_length must be a positive integer, got {max_length!r}"
            raise ConfigError(msg)
        lengths = self.lengths
        pos = positions(lengths)
        keep = pos >= np.repeat(lengths - max_length, lengths)
        return self._keep_steps(keep, "error", "truncating")

    def transform(
        self,
        *,
        collapse_repeats: bool = False,
        drop: Iterable[str] | None = None,
        keep: Iterable[str] | None = None,
        max_length: int | None = None,
        empty: EmptyPaths = "error",
    ) -> PathTable:
        """Apply the path options, in this order: keep/drop channels, collapse, truncate.

        Parameters
        ----------
        collapse_repeats : bool
            Merge consecutive touches on one channel (:meth:`collapse_repeats`).
        drop, keep : iterable of str, optional
            Channels to remove, or the only channels to keep.
        max_length : int, optional
            Keep the last ``max_length`` steps of each path (:meth:`truncate`).
        empty : {"error", "remove"}
            What to do with paths left empty by ``drop``/``keep``.
        """
        out = self
        if keep is not None:
            out = out.keep_channels(keep, empty=empty)
        if drop is not None:
            out = out.drop_channels(drop, empty=empty)
        if collapse_repeats:
            out = out.collapse_repeats()
        if max_length is not None:
            out = out.truncate(max_length)
        return out

    def compact(self) -> PathTable:
        """Drop channel labels that no path uses."""
        used = np.zeros(self.n_channels, dtype=bool)
        used[self.codes] = True
        if used.all():
            return self
        steps = self.steps.compact()
        codes = steps.raw("channel").astype(np.int32)  # the table's codes stay int32
        return PathTable(self.rows, path_steps(steps.labels("channel"), codes, self.times))

    def with_channels(self, channels: Sequence[str]) -> PathTable:
        """The same paths coded against a larger sorted label set ``channels``."""
        target = np.asarray(sorted(str(c) for c in channels), dtype=object)
        pos = np.searchsorted(target, self.channels)
        if self.channels.size and (
            pos.max(initial=0) >= target.size
            or (target[np.minimum(pos, target.size - 1)] != self.channels).any()
        ):
            msg = "with_channels: the new channels must include every channel of the table"
            raise ConfigError(msg)
        return self._with(channels=target, codes=pos.astype(np.int32)[self.codes])

    # ------------------------------------------------------------------ aggregation

    def aggregate(self) -> PathTable:
        """One row per distinct path, counts summed, rows in canonical order.

        The order is by length, then channel by channel in label order, and the counts of
        equal paths are summed in a way that does not depend on their order, so equal inputs
        in any row order give the same table, to the bit. Tables with times are returned
        unchanged in content but sorted, equal paths by their counts then their times (their
        rows are journeys: merging would lose the times).
        """
        if self.times is not None:
            return in_canonical_order(self)
        order, group, n_groups = canonical_groups(self.codes, self.offsets, self.n_channels)
        first = np.flatnonzero(run_starts(group))
        sums = {
            name: group_sums(group, getattr(self, name)[order], n_groups)
            for name in ("conversions", "value", "nulls")
        }
        return self.take(order[first])._with(**sums)

    def equals(self, other: object) -> bool:
        """Same paths (decoded) with the same counts, whatever the row order or duplicates."""
        if not isinstance(other, PathTable):
            return False
        a, b = self.compact().aggregate(), other.compact().aggregate()
        if a.channels.tolist() != b.channels.tolist():
            return False
        return bool(
            np.array_equal(a.offsets, b.offsets)
            and np.array_equal(a.codes, b.codes)
            and np.allclose(a.conversions, b.conversions, rtol=1e-12, atol=0)
            and np.allclose(a.value, b.value, rtol=1e-12, atol=0)
            and np.allclose(a.nulls, b.nulls, rtol=1e-12, atol=0)
        )

    @staticmethod
    def concat(tables: Sequence[PathTable], *, aggregate: bool = True) -> PathTable:
        """The rows of several tables as one table over the union of their channels.

        Attributing the result equals attributing the concatenated input: counts of equal
        paths are summed (``aggregate=True``).
        """
        parts = list(tables)
        if not parts:
            msg = "concat needs at least one PathTable"
            raise ConfigError(msg)
        if any(not isinstance(p, PathTable) for p in parts):
            msg = "concat takes PathTable objects only"
            raise ConfigError(msg)
        with_times = all(p.times is not None for p in parts)
        steps = concat([p.steps if with_times else p.steps.select(["channel"]) for p in parts])
        channel = steps.raw("channel").astype(np.int32)  # the table's codes stay int32
        out = PathTable(
            concat([p.rows for p in parts]),
            path_steps(steps.labels("channel"), channel, steps["time"] if with_times else None),
        )
        return out.aggregate() if aggregate else out

    def __add__(self, other: object) -> PathTable:
        if not isinstance(other, PathTable):
            return NotImplemented
        return PathTable.concat([self, other])

    # ------------------------------------------------------------------ helpers for models

    def channel_sets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct channels of each path: flat codes (sorted within a path), offsets, sizes."""
        pid = self.path_index()
        key = np.sort(pid * max(self.n_channels, 1) + self.codes)
        uniq = key[run_starts(key)]
        upid = uniq // max(self.n_channels, 1)
        ucode = (uniq % max(self.n_channels, 1)).astype(np.int64)
        sizes = np.bincount(upid, minlength=self.n_paths)
        offsets = np.zeros(self.n_paths + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        return ucode, offsets, sizes

    def channel_index(self, names: Iterable[str] | None, what: str) -> np.ndarray:
        """Codes of named channels (unknown names raise a DataError naming ``what``)."""
        return channel_set(names, self.channels, what)

    def require_conversions(self, model: str) -> None:
        """Raise a DataError when there is nothing to attribute."""
        if self.n_paths == 0:
            msg = f"{model}: the path table is empty; there is nothing to attribute"
            raise DataError(msg, table=_TABLE)
        if self.total_conversions <= 0:
            raise DataError(
                f"{model}: no path converts (all {self.total_nulls:,.6g} journeys are nulls); "
                "there is nothing to attribute",
                table=_TABLE,
                column="conversions",
            )


def _raw(table: PathTable, keep: np.ndarray, new_len: np.ndarray) -> PathTable:
    """``table`` restricted to the kept steps, without the rows left empty."""
    nonempty = new_len > 0
    rows = table.rows.filter(nonempty).replace_columns({"length": new_len[nonempty]})
    return PathTable(rows, table.steps.filter(keep))


def as_path_table(paths: Any, func: str) -> PathTable:
    """Accept a PathTable, or a JourneyTable (converted with default options)."""
    if isinstance(paths, PathTable):
        return paths
    from omnijourney.journeys import JourneyTable

    if isinstance(paths, JourneyTable):
        return PathTable.from_journeys(paths)
    if isinstance(paths, Mapping):
        msg = (
            f"{func}: paths must be a PathTable; build one with PathTable.from_strings("
            "paths, conversions, value, nulls)"
        )
        raise ConfigError(msg)
    msg = f"{func}: paths must be a PathTable or a JourneyTable, got {type(paths).__name__}"
    raise ConfigError(msg)


register_json_state(
    PathTable,
    tag="omnijourney.attribution:PathTable",
    to_state=flat_state,
    from_state=lambda state, structure: PathTable._of(**arrays_of_state(state, structure)),
)
