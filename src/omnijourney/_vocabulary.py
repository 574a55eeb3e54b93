"""The user's words for events and channels, mapped to the library's while a table is loaded.

A French export says ``achat`` and ``Magasin`` where the library's rules say ``purchase`` and
``store``; without a mapping, the rules match nothing. :class:`Vocabulary` maps labels once,
on the dictionary of distinct labels, so that its cost does not depend on the number of rows.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from omnijourney import _columns as C
from omnijourney._validation import check_bool, validator
from omnijourney.errors import ConfigError
from omnijourney.model import DEFAULT_CHANNELS, FrozenMap

__all__ = ["Vocabulary"]


def _label_map(value: Any, name: str) -> FrozenMap:
    if value is None:
        return FrozenMap()
    if not isinstance(value, Mapping):
        msg = f"The {name!r} parameter must be a mapping of label -> label. Got {value!r} instead."
        raise ConfigError(msg)
    clean: dict[str, str] = {}
    for key, target in value.items():
        ok_key = isinstance(key, (str, int)) and not isinstance(key, bool)
        if not ok_key or not isinstance(target, str) or not target.strip():
            msg = (
                f"The {name!r} parameter must map labels (str or int) to non-empty labels "
                f"(str). Got {key!r}: {target!r} instead."
            )
            raise ConfigError(msg)
        clean[str(key)] = target
    return FrozenMap(clean)


def _events(value: Any) -> FrozenMap:
    return _label_map(value, "events")


def _channels(value: Any) -> FrozenMap:
    return _label_map(value, "channels")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@attrs.frozen(kw_only=True)
class Vocabulary:
    """How the user's event and channel labels map to the library's, applied while loading.

    Parameters
    ----------
    events : mapping of str to str, optional
        The user's event label -> the library's (``{"achat": "purchase"}``).
    channels : mapping of str to str, optional
        The user's channel label -> the library's (``{"Magasin": "store"}``).
    fold_case : bool
        Compare labels without case: ``"Achat"``, ``"achat"`` and ``"ACHAT"`` are one label.
        Labels that no entry maps are kept folded (``"Purchase"`` becomes ``"purchase"``).
    fold_accents : bool
        Compare labels without accents (``"téléphone"`` is ``"telephone"``); unmapped labels
        are kept without their accents.

    Notes
    -----
    Labels are compared after stripping surrounding blanks when either fold is on; the
    mapping's keys are folded the same way, its values are kept as written.

    Examples
    --------
    >>> vocab = Vocabulary(events={"achat": "purchase"}, channels={"magasin": "store"},
    ...                    fold_case=True, fold_accents=True)
    >>> vocab.translate("events", ["Achat", "ACHAT", "Vue Produit"])
    ['purchase', 'purchase', 'vue produit']
    >>> vocab.translate("channels", ["Magasin", "Web"])
    ['store', 'web']
    """

    events: FrozenMap = attrs.field(factory=FrozenMap, converter=_events)
    channels: FrozenMap = attrs.field(factory=FrozenMap, converter=_channels)
    fold_case: bool = attrs.field(default=False, validator=validator(check_bool))
    fold_accents: bool = attrs.field(default=False, validator=validator(check_bool))

    @property
    def folds(self) -> bool:
        """Whether labels are compared folded (case or accents)."""
        return self.fold_case or self.fold_accents

    def fold(self, label: str) -> str:
        """``label`` as it is compared: stripped, case-folded, without accents, as asked."""
        if not self.folds:
            return label
        text = label.strip()
        if self.fold_accents:
            text = _strip_accents(text)
        if self.fold_case:
            text = text.casefold()
        return text

    def translate(self, column: str, labels: list[Any]) -> list[Any]:
        """The library's label for each of ``labels`` (``column``: "events" or "channels")."""
        table = self.events if column == "events" else self.channels
        lookup = {self.fold(k): v for k, v in table.items()}
        out: list[Any] = []
        for label in labels:
            if isinstance(label, str):
                key = self.fold(label)
                out.append(lookup.get(key, key))
            else:
                out.append(lookup.get(str(label), label))
        return out


def vocabulary_from(
    vocabulary: Vocabulary | None,
    event_map: Mapping[str, str] | None,
    channel_map: Mapping[str, str] | None,
) -> Vocabulary | None:
    """One vocabulary from the ``vocabulary``, ``event_map`` and ``channel_map`` options."""
    if vocabulary is not None and (event_map is not None or channel_map is not None):
        msg = "pass either vocabulary= or event_map= / channel_map=, not both"
        raise ConfigError(msg)
    if vocabulary is not None:
        if not isinstance(vocabulary, Vocabulary):
            msg = f"The 'vocabulary' parameter must be a Vocabulary. Got {vocabulary!r} instead."
            raise ConfigError(msg)
        return vocabulary
    if event_map is None and channel_map is None:
        return None
    return Vocabulary(events=event_map, channels=channel_map)


def apply_vocabulary(
    vocabulary: Vocabulary, column: str, codes: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """Codes and labels of ``column`` ("event" or "channel") in the library's words, and the
    labels that changed (old -> new)."""
    old = labels.tolist()
    new = vocabulary.translate(f"{column}s", old)
    changed = {str(a): str(b) for a, b in zip(old, new) if a != b}
    if not changed:
        return codes, labels, {}
    if any(isinstance(v, str) for v in new) and not all(isinstance(v, str) for v in new):
        new = [str(v) for v in new]
    codes, labels = C.relabel(codes, labels, new)
    return codes, labels, changed


def unplaced_channels(names: list[Any], channels: Any) -> list[str]:
    """Channel names that neither :data:`DEFAULT_CHANNELS` nor ``channels`` describe."""
    known = {c.name for c in DEFAULT_CHANNELS}
    if isinstance(channels, Mapping):
        known |= {str(k) for k in channels}
    elif channels is not None:
        known |= {getattr(c, "name", None) for c in channels} - {None}  # type: ignore[arg-type]
    return [str(n) for n in names if str(n) not in known]
