"""What every figure shares: matplotlib imported on first use, axes, colours and checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from omnijourney._optional import import_optional
from omnijourney.errors import ConfigError
from omnijourney.tables import Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def mpl() -> Any:
    """The ``matplotlib`` module, or an error that names the ``plot`` extra."""
    return import_optional("matplotlib", "plot")


def new_axes(ax: Axes | None, figsize: tuple[float, float], who: str) -> Axes:
    """``ax`` when given (checked), else the axes of a new pyplot figure."""
    if ax is None:
        plt = import_optional("matplotlib.pyplot", "plot")
        _, created = plt.subplots(figsize=figsize, layout="constrained")
        return created
    axes_mod = import_optional("matplotlib.axes", "plot")
    if not isinstance(ax, axes_mod.Axes):
        msg = f"{who}: ax must be a matplotlib Axes or None, got {type(ax).__name__}"
        raise ConfigError(msg)
    return ax


def check_table(value: Any, name: str, columns: Iterable[str], who: str, made_by: str) -> Table:
    """``value`` as a Table holding ``columns``, and not empty."""
    if not isinstance(value, Table):
        msg = f"{who}: {name} must be the Table returned by {made_by}, got {type(value).__name__}"
        raise ConfigError(msg)
    missing = [c for c in columns if c not in value.columns]
    if missing:
        msg = (
            f"{who}: {name} must be the Table returned by {made_by}; it has no column "
            f"{', '.join(repr(c) for c in missing)} (columns are {list(value.columns)})"
        )
        raise ConfigError(msg)
    if len(value) == 0:
        msg = f"{who}: {name} is empty (0 rows); there is nothing to draw"
        raise ConfigError(msg)
    return value


def check_choice(value: Any, name: str, choices: Sequence[str], who: str) -> str:
    if value not in choices:
        msg = f"{who}: {name} must be one of {list(choices)}, got {value!r}"
        raise ConfigError(msg)
    return str(value)


def series_colors(labels: Sequence[Any], colors: Mapping[Any, Any] | None = None) -> dict[Any, Any]:
    """A colour per label: the caller's, else matplotlib's colour cycle in label order."""
    cycle = mpl().rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    out: dict[Any, Any] = {}
    for i, label in enumerate(labels):
        given = None if colors is None else colors.get(label)
        out[label] = given if given is not None else cycle[i % len(cycle)]
    return out


def date_numbers(times: np.ndarray) -> np.ndarray:
    """``datetime64`` values as matplotlib date numbers (days since matplotlib's epoch)."""
    mdates = import_optional("matplotlib.dates", "plot")
    return np.asarray(mdates.date2num(np.asarray(times).astype("datetime64[us]")), dtype=float)


def date_axis(ax: Axes) -> None:
    """Dates on the x axis of ``ax``, whose x values are date numbers."""
    mdates = import_optional("matplotlib.dates", "plot")
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def span(ax: Axes, x0: float, x1: float, *, min_width: float, **kwargs: Any) -> Any:
    """A full-height rectangle from ``x0`` to ``x1`` (data) on ``ax``, at least ``min_width``
    wide, centred when widened."""
    patches = import_optional("matplotlib.patches", "plot")
    if x1 - x0 < min_width:
        mid = (x0 + x1) / 2
        x0, x1 = mid - min_width / 2, mid + min_width / 2
    rect = patches.Rectangle(
        (x0, 0.0), x1 - x0, 1.0, transform=ax.get_xaxis_transform(), linewidth=0, **kwargs
    )
    ax.add_patch(rect)
    return rect


def scalar_label(value: Any, name: str, who: str) -> Any:
    """A single id (str or int) for ``name``; lists and other values are refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (str, int, np.integer)):
        msg = f"{who}: {name} must be one id (a str or an int), got {value!r}"
        raise ConfigError(msg)
    return value.item() if isinstance(value, np.integer) else value


def matches(values: np.ndarray, wanted: Any) -> np.ndarray:
    """Elementwise ``values == wanted`` for object or numeric arrays, as a boolean mask."""
    if values.dtype.kind in "iuf" and isinstance(wanted, str):
        return np.zeros(values.size, dtype=bool)
    if values.dtype.kind in "US" and not isinstance(wanted, str):
        return np.zeros(values.size, dtype=bool)
    return np.asarray(values == wanted, dtype=bool).reshape(values.shape)


def shown(values: Iterable[Any], limit: int = 8) -> str:
    """A few values for a message: ``['a', 'b', ...] (12 in all)``."""
    items = list(values)
    head = ", ".join(repr(x) for x in items[:limit])
    more = f", ... ({len(items)} in all)" if len(items) > limit else ""
    return f"[{head}{more}]"


def percent_text(share: float) -> str:
    """A share as a whole percentage, ``"<1%"`` for small non-zero ones."""
    return "<1%" if 0 < share < 0.005 else f"{100 * share:.0f}%"


def annotate_cells(ax: Axes, values: np.ndarray, text: Any) -> None:
    """Write ``text(value)`` in each non-zero finite cell of a heat map drawn with ``imshow``
    (white on the darkest cells)."""
    finite = values[np.isfinite(values)]
    high = float(finite.max()) if finite.size else 0.0
    for i, j in zip(*np.nonzero(np.isfinite(values) & (values != 0))):
        v = float(values[i, j])
        ax.text(
            j,
            i,
            text(v),
            ha="center",
            va="center",
            fontsize="x-small",
            color="white" if high > 0 and v > 0.6 * high else "black",
        )
