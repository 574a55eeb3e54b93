"""Channel roles: does a channel open converting journeys, assist in the middle, or close them?

The question "does this channel inform, incite or decide?" made measurable: each touch of a
converting path is an opening (first), an assist (middle) or a closing (last) touch, weighted
by the path's conversions or value; a channel's role is the position where its touches
concentrate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from omnijourney._display import TableResult
from omnijourney._sums import group_sums
from omnijourney.attribution._encode import ARRAY_EQ
from omnijourney.attribution._paths import PathTable, as_path_table
from omnijourney.attribution._results import frame
from omnijourney.errors import ConfigError

__all__ = ["ROLES", "ChannelRoles", "RoleComparison", "channel_roles", "roles_by"]

#: Role labels, and the question each answers (the "mixed" label has no dominant position).
ROLES: dict[str, str] = {
    "opener": "informative: starts converting journeys",
    "assist": "incitative: carries journeys between the first and last touch",
    "closer": "decisive: ends journeys with the conversion",
    "mixed": "no position holds enough of the channel's touches",
}
_POSITIONS = ("opener", "assist", "closer")


@attrs.frozen(kw_only=True, repr=False)
class ChannelRoles(TableResult):
    """Where each channel's touches sit in converting paths, and the role that follows.

    Attributes
    ----------
    channels : ndarray of object
    opens, assists, closes : ndarray of float
        Touches of each channel that open, sit inside, or close converting paths, each
        weighted by the path's conversions. A path of one touch counts half an opening and
        half a closing.
    value_opens, value_assists, value_closes : ndarray of float
        The same weighted by the path's conversion value.
    roles : ndarray of object
        ``"opener"``, ``"assist"``, ``"closer"`` or ``"mixed"`` per channel (see :data:`ROLES`).
    thresholds : dict
        Minimum share of touches for each role label.
    weight : str
        ``"conversions"`` or ``"value"``: which shares decide the label.
    """

    channels: np.ndarray = attrs.field(eq=ARRAY_EQ)
    opens: np.ndarray = attrs.field(eq=ARRAY_EQ)
    assists: np.ndarray = attrs.field(eq=ARRAY_EQ)
    closes: np.ndarray = attrs.field(eq=ARRAY_EQ)
    value_opens: np.ndarray = attrs.field(eq=ARRAY_EQ)
    value_assists: np.ndarray = attrs.field(eq=ARRAY_EQ)
    value_closes: np.ndarray = attrs.field(eq=ARRAY_EQ)
    roles: np.ndarray = attrs.field(eq=ARRAY_EQ)
    thresholds: dict[str, float] = attrs.field(factory=dict)
    weight: str = "conversions"

    def shares(self, weight: str | None = None) -> np.ndarray:
        """(C, 3) shares of opening, assisting and closing touches of each channel."""
        w = self.weight if weight is None else weight
        counts = (
            np.stack([self.value_opens, self.value_assists, self.value_closes], axis=1)
            if w == "value"
            else np.stack([self.opens, self.assists, self.closes], axis=1)
        )
        total = counts.sum(axis=1, keepdims=True)
        return np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)

    def role_of(self, channel: str) -> str:
        """The role label of one channel."""
        names = self.channels.tolist()
        if channel not in names:
            msg = f"{channel!r} is not a channel; channels are {names}"
            raise ConfigError(msg)
        return str(self.roles[names.index(channel)])

    def as_dict(self) -> dict[str, str]:
        """Channel -> role label."""
        return dict(zip(self.channels.tolist(), self.roles.tolist()))

    def to_pandas(self) -> Any:
        """One row per channel: weighted touches, shares (by conversions and value), role."""
        s, sv = self.shares("conversions"), self.shares("value")
        return frame(
            {
                "opens": self.opens,
                "assists": self.assists,
                "closes": self.closes,
                "open_share": s[:, 0],
                "assist_share": s[:, 1],
                "close_share": s[:, 2],
                "value_open_share": sv[:, 0],
                "value_assist_share": sv[:, 1],
                "value_close_share": sv[:, 2],
                "role": self.roles,
            },
            index=self.channels.tolist(),
        )

    def summary(self) -> str:
        """A readable table of shares and roles."""
        s = self.shares()
        lines = [
            f"channel roles (shares of touches in converting paths, weighted by {self.weight})",
            f"  {'channel':<16}{'open':>8}{'assist':>8}{'close':>8}  role",
        ]
        for i, name in enumerate(self.channels.tolist()):
            lines.append(
                f"  {name!s:<16}{100 * s[i, 0]:>7.1f}%{100 * s[i, 1]:>7.1f}%"
                f"{100 * s[i, 2]:>7.1f}%  {self.roles[i]}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def _thresholds(threshold: float | Mapping[str, float]) -> dict[str, float]:
    if isinstance(threshold, Mapping):
        unknown = set(threshold) - set(_POSITIONS)
        if unknown:
            msg = f"threshold keys must be among {list(_POSITIONS)}, got {sorted(unknown)}"
            raise ConfigError(msg)
        out = {k: float(threshold.get(k, 0.5)) for k in _POSITIONS}
    else:
        out = dict.fromkeys(_POSITIONS, float(threshold))
    if any(not 0.0 <= v <= 1.0 for v in out.values()):
        msg = f"thresholds must be in [0, 1], got {out}"
        raise ConfigError(msg)
    return out


def channel_roles(
    paths: PathTable,
    *,
    threshold: float | Mapping[str, float] = 0.4,
    weight: str = "conversions",
) -> ChannelRoles:
    """Share of each channel's touches that open, assist or close converting paths.

    Parameters
    ----------
    paths : PathTable
        Only converting paths count (a touch of a path with ``c`` conversions counts ``c``
        times; with ``weight="value"``, its value). Paths built with
        ``PathTable.from_journeys`` have repeats collapsed, so a touch is a run of
        consecutive touches on one channel.
    threshold : float or mapping
        A channel is labelled with the position holding the largest share of its touches if
        that share reaches the threshold (one for all roles, or per role:
        ``{"opener": 0.4, "assist": 0.5, "closer": 0.4}``); otherwise ``"mixed"``.
    weight : {"conversions", "value"}
        Which weighting decides the labels (both are reported).

    Returns
    -------
    ChannelRoles

    Examples
    --------
    >>> pt = PathTable.from_strings(["email > web > store", "sms > web > web > store", "web"],
    ...                             conversions=[3, 2, 1])
    >>> channel_roles(pt).as_dict()
    {'email': 'opener', 'sms': 'opener', 'store': 'closer', 'web': 'assist'}
    """
    pt = as_path_table(paths, "channel_roles")
    if weight not in ("conversions", "value"):
        msg = f"weight must be 'conversions' or 'value', got {weight!r}"
        raise ConfigError(msg)
    th = _thresholds(threshold)
    pt.require_conversions("channel_roles")
    # each step is a term of one cell (channel, position): the first and the last step of a
    # path (half each for a path of one step), or a step in between
    first, last = pt.offsets[:-1], pt.offsets[1:] - 1
    middle = np.ones(pt.codes.size, dtype=bool)
    middle[first] = middle[last] = False
    half = np.where(pt.lengths == 1, 0.5, 1.0)
    codes = pt.codes.astype(np.int64)
    cell = np.concatenate([3 * codes[first], 3 * codes[middle] + 1, 3 * codes[last] + 2])
    part = np.concatenate([half, np.ones(int(middle.sum())), half])
    rows = np.arange(pt.n_paths)
    path = np.concatenate([rows, pt.path_index()[middle], rows])
    out: dict[str, np.ndarray] = {}
    for prefix, per_path in (("", pt.conversions), ("value_", pt.value)):
        sums = group_sums(cell, part * per_path[path], 3 * pt.n_channels).reshape(-1, 3)
        for k, name in enumerate(("opens", "assists", "closes")):
            out[prefix + name] = sums[:, k].copy()
    counts = (
        np.stack([out["value_opens"], out["value_assists"], out["value_closes"]], axis=1)
        if weight == "value"
        else np.stack([out["opens"], out["assists"], out["closes"]], axis=1)
    )
    total = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)
    best = np.argmax(shares, axis=1)
    limit = np.array([th[k] for k in _POSITIONS])
    ok = (shares[np.arange(shares.shape[0]), best] >= limit[best]) & (total[:, 0] > 0)
    labels = np.where(ok, np.array(_POSITIONS, dtype=object)[best], "mixed").astype(object)
    return ChannelRoles(
        channels=np.asarray(pt.channels, dtype=object),
        roles=labels,
        thresholds=th,
        weight=weight,
        **out,
    )


@attrs.frozen(kw_only=True, repr=False)
class RoleComparison(TableResult):
    """Channel roles in several groups (segments, periods...).

    Attributes
    ----------
    groups : tuple of str
    results : tuple of ChannelRoles
        Aligned with ``groups``; every result covers the same channels.
    """

    groups: tuple[str, ...]
    results: tuple[ChannelRoles, ...]

    def __getitem__(self, group: str) -> ChannelRoles:
        return self.results[self.groups.index(group)]

    def labels(self) -> dict[str, dict[str, str]]:
        """Group -> channel -> role."""
        return {g: r.as_dict() for g, r in zip(self.groups, self.results)}

    def to_pandas(self) -> Any:
        """Long format: one row per (group, channel) with shares and role."""
        from omnijourney._optional import import_optional

        pd = import_optional("pandas", "pandas")
        parts = []
        for g, r in zip(self.groups, self.results):
            df = r.to_pandas().reset_index()
            df.insert(0, "group", g)
            parts.append(df)
        return pd.concat(parts, ignore_index=True)

    def summary(self) -> str:
        """Roles per channel, one column per group."""
        channels = self.results[0].channels.tolist() if self.results else []
        width = max([8, *(len(g) + 2 for g in self.groups)])
        lines = [f"  {'channel':<16}" + "".join(f"{g:>{width}}" for g in self.groups)]
        for i, c in enumerate(channels):
            lines.append(f"  {c!s:<16}" + "".join(f"{r.roles[i]!s:>{width}}" for r in self.results))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return "RoleComparison\n" + self.summary()


def roles_by(
    journeys: Any,
    by: Any,
    *,
    threshold: float | Mapping[str, float] = 0.4,
    weight: str = "conversions",
    **options: Any,
) -> RoleComparison:
    """Channel roles computed separately for each group of journeys.

    Parameters
    ----------
    journeys : JourneyTable
        The result of :func:`~omnijourney.sessionize`.
    by : array
        One group label per journey (row of ``journeys.journeys``): the customer's segment,
        the month of the journey's start...
    threshold, weight
        As in :func:`channel_roles`.
    **options
        Passed to :meth:`PathTable.from_journeys` (``collapse_repeats``, ``drop``...).

    Returns
    -------
    RoleComparison
        One :class:`ChannelRoles` per group, over the same channels; groups without any
        conversion are left out.
    """
    labels = np.asarray(by, dtype=object)
    if labels.shape != (len(journeys),):
        msg = f"by must hold one label per journey ({len(journeys)}), got shape {labels.shape}"
        raise ConfigError(msg)
    groups, results = [], []
    all_channels = journeys.touchpoints.labels("channel")
    names, inverse = np.unique(labels.astype(str), return_inverse=True)
    for i, g in enumerate(names.tolist()):
        pt = PathTable.from_journeys(journeys, where=inverse.ravel() == i, **options)
        if pt.total_conversions <= 0:
            continue
        pt = pt.with_channels(all_channels.tolist())
        groups.append(g)
        results.append(channel_roles(pt, threshold=threshold, weight=weight))
    return RoleComparison(groups=tuple(groups), results=tuple(results))
