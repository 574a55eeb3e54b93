"""Attribution results: per-channel credit, removal effects and the Markov transition matrix.

Results are frozen attrs objects that round-trip through ``oj.to_json`` / ``oj.from_json``,
print a readable summary and convert to pandas on request.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from omnijourney import _format as F
from omnijourney._display import TableResult
from omnijourney.attribution._encode import ARRAY_EQ
from omnijourney.errors import ConfigError

__all__ = ["Attribution", "TransitionMatrix"]

START = "(start)"
CONVERSION = "(conversion)"
NULL = "(null)"


def frame(columns: dict[str, Any], index: Any = None, index_name: str = "channel") -> Any:
    """A pandas DataFrame from columns (needs the ``pandas`` extra)."""
    from omnijourney._optional import import_optional

    pd = import_optional("pandas", "pandas")
    df = pd.DataFrame(columns, index=None if index is None else pd.Index(index, name=index_name))
    return df


def clean_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as JSON-ready values (tuples and arrays become lists)."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if isinstance(v, (tuple, list, set, frozenset, np.ndarray)):
            items = sorted(v) if isinstance(v, (set, frozenset)) else list(v)
            v = [x.item() if isinstance(x, np.generic) else x for x in items]
        elif isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


@attrs.frozen(kw_only=True, repr=False)
class TransitionMatrix(TableResult):
    """Transition counts of a Markov chain over paths, stored sparsely.

    ``states`` are ``"(start)"``, the transient states (a channel at order 1, the last ``k``
    channels joined by ``" > "`` at order ``k``), then ``"(conversion)"`` and ``"(null)"``.
    Entry ``i`` is a transition ``source[i] -> target[i]`` observed ``counts[i]`` times
    (weighted by the journeys of each path).
    """

    states: np.ndarray = attrs.field(eq=ARRAY_EQ)
    source: np.ndarray = attrs.field(eq=ARRAY_EQ)
    target: np.ndarray = attrs.field(eq=ARRAY_EQ)
    counts: np.ndarray = attrs.field(eq=ARRAY_EQ)
    order: int = 1

    @property
    def n_states(self) -> int:
        """Number of states, start and absorbing states included."""
        return int(self.states.size)

    def probabilities(self) -> np.ndarray:
        """Transition probability of each entry (counts over the source's outgoing total)."""
        out = np.bincount(self.source, weights=self.counts, minlength=self.n_states)
        return self.counts / np.where(out[self.source] > 0, out[self.source], 1.0)

    def to_dense(self) -> np.ndarray:
        """The full probability matrix (states x states; absorbing rows are zero)."""
        if self.n_states > 5_000:
            msg = f"to_dense: {self.n_states:,} states are too many for a dense matrix"
            raise ConfigError(msg)
        m = np.zeros((self.n_states, self.n_states))
        np.add.at(m, (self.source, self.target), self.probabilities())
        return m

    def to_pandas(self) -> Any:
        """Long format: ``source``, ``target``, ``count``, ``probability`` (one row per entry)."""
        return frame(
            {
                "source": self.states[self.source],
                "target": self.states[self.target],
                "count": self.counts,
                "probability": self.probabilities(),
            }
        )

    def __repr__(self) -> str:
        return (
            f"TransitionMatrix(order={self.order}, {self.n_states:,} states, "
            f"{self.source.size:,} transitions)"
        )


@attrs.frozen(kw_only=True, repr=False)
class Attribution(TableResult):
    """Credit of each channel under one attribution model.

    Attributes
    ----------
    model : str
        ``"first_touch"``, ``"last_touch"``, ``"last_non_direct"``, ``"linear"``,
        ``"position_based"``, ``"time_decay"``, ``"markov"`` or ``"shapley"``.
    channels : ndarray of object
        Channel labels (sorted), aligned with every per-channel array.
    conversions, value : ndarray of float
        Credited conversions and conversion value; they sum to ``total_conversions`` and
        ``total_value`` (Shapley with a rate value may give negative credit, see its docs).
    total_conversions, total_value : float
        Totals of the path table.
    removal_effects, value_removal_effects : ndarray or None
        Markov only: ``1 - P(conversion without the channel) / P(conversion)`` and the same
        for the expected conversion value.
    scores : ndarray or None
        The model's raw per-channel score before scaling to the totals (Shapley values of the
        coalition game, removal effects...).
    std_error : ndarray or None
        Standard error of ``conversions`` for sampled (Monte-Carlo) estimates.
    transitions : TransitionMatrix or None
        Markov only: the fitted chain.
    params : dict
        The parameters that produced the result.
    n_paths : int
        Rows of the path table.

    Examples
    --------
    >>> from omnijourney.attribution import PathTable, last_touch
    >>> pt = PathTable.from_strings(["a > b", "b"], conversions=[1, 3], value=[10.0, 30.0])
    >>> res = last_touch(pt)
    >>> res.credit("b"), res.share.tolist()
    (4.0, [0.0, 1.0])
    """

    model: str
    channels: np.ndarray = attrs.field(eq=ARRAY_EQ)
    conversions: np.ndarray = attrs.field(eq=ARRAY_EQ)
    value: np.ndarray = attrs.field(eq=ARRAY_EQ)
    total_conversions: float
    total_value: float
    removal_effects: np.ndarray | None = attrs.field(eq=ARRAY_EQ, default=None)
    value_removal_effects: np.ndarray | None = attrs.field(eq=ARRAY_EQ, default=None)
    scores: np.ndarray | None = attrs.field(eq=ARRAY_EQ, default=None)
    std_error: np.ndarray | None = attrs.field(eq=ARRAY_EQ, default=None)
    transitions: TransitionMatrix | None = None
    params: dict[str, Any] = attrs.field(factory=dict)
    n_paths: int = 0

    @property
    def share(self) -> np.ndarray:
        """Credited conversions over total conversions."""
        return (
            self.conversions / self.total_conversions
            if self.total_conversions
            else (np.zeros_like(self.conversions))
        )

    @property
    def value_share(self) -> np.ndarray:
        """Credited value over total value."""
        return self.value / self.total_value if self.total_value else np.zeros_like(self.value)

    def credit(self, channel: str, *, of: str = "conversions") -> float:
        """Credited conversions (or ``of="value"``) of one channel."""
        names = self.channels.tolist()
        if channel not in names:
            msg = f"{channel!r} is not a channel of this result; channels are {names}"
            raise ConfigError(msg)
        arr = self.conversions if of == "conversions" else self.value
        return float(arr[names.index(channel)])

    def as_dict(self, of: str = "conversions") -> dict[str, float]:
        """Channel -> credited conversions (or value)."""
        arr = self.conversions if of == "conversions" else self.value
        return dict(zip(self.channels.tolist(), arr.tolist()))

    def columns(self) -> dict[str, np.ndarray]:
        """The per-channel columns of :meth:`to_pandas`, as numpy arrays."""
        cols: dict[str, np.ndarray] = {
            "conversions": self.conversions,
            "value": self.value,
            "share": self.share,
            "value_share": self.value_share,
        }
        if self.removal_effects is not None:
            cols["removal_effect"] = self.removal_effects
        if self.value_removal_effects is not None:
            cols["value_removal_effect"] = self.value_removal_effects
        if self.std_error is not None:
            cols["std_error"] = self.std_error
        return cols

    def to_table(self) -> Any:
        """One row per channel as an omnijourney :class:`~omnijourney.Table`."""
        from omnijourney.tables import Table

        data = {"channel": np.arange(self.channels.size, dtype=np.int64), **self.columns()}
        return Table.from_arrays(data, {"channel": self.channels})

    def to_pandas(self) -> Any:
        """One row per channel (index ``channel``): credited conversions, value, shares and,
        for Markov, removal effects."""
        return frame(self.columns(), index=self.channels.tolist())

    def summary(self) -> str:
        """A readable table of the credit."""
        head = (
            f"{self.model} attribution of {F.plural(self.total_conversions, 'conversion')} "
            f"(value {F.number(self.total_value)}) over {F.plural(self.n_paths, 'path')}"
        )
        extra = self.removal_effects is not None
        lines = [
            head,
            f"  {'channel':<16}{'conversions':>13}{'share':>8}{'value':>14}"
            + ("  removal effect" if extra else ""),
        ]
        order = np.argsort(-self.conversions, kind="stable")
        for i in order.tolist():
            line = (
                f"  {self.channels[i]!s:<16}{self.conversions[i]:>13,.2f}"
                f"{100 * self.share[i]:>7.1f}%{self.value[i]:>14,.2f}"
            )
            if extra:
                assert self.removal_effects is not None
                line += f"  {self.removal_effects[i]:>14.4f}"
            lines.append(line)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def scaled(scores: np.ndarray, total: float) -> np.ndarray:
    """``total`` split in proportion to ``scores`` (zeros when the scores sum to zero)."""
    s = float(scores.sum())
    if s == 0.0:
        return np.zeros_like(scores, dtype=np.float64)
    return total * scores / s


def make_result(
    model: str,
    paths: Any,
    conversions: np.ndarray,
    value: np.ndarray,
    params: dict[str, Any],
    **extra: Any,
) -> Attribution:
    """An :class:`Attribution` for ``paths`` with the totals filled in."""
    return Attribution(
        model=model,
        channels=np.asarray(paths.channels, dtype=object),
        conversions=np.asarray(conversions, dtype=np.float64),
        value=np.asarray(value, dtype=np.float64),
        total_conversions=paths.total_conversions,
        total_value=paths.total_value,
        params=clean_params(params),
        n_paths=paths.n_paths,
        **extra,
    )
