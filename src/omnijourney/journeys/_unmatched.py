"""Rules whose labels occur nowhere in the data: found, described, warned about and noted.

A rule written in one vocabulary (``purchase``, ``store``) applied to data in another
(``achat``, ``Magasin``) selects nothing and gives empty results that look like facts (no
conversion, no break, every customer undetermined). Each analysis checks its rules against
the labels its data actually holds and says so, naming the rule, what it looked for and what
the data has instead.
"""

from __future__ import annotations

import difflib
import os
import sys
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import attrs
import numpy as np

from omnijourney.errors import OmnijourneyWarning
from omnijourney.journeys._rules import JourneyRules
from omnijourney.tables import Table

__all__ = ["UnmatchedRule"]

T = TypeVar("T", bound=Table)

#: Labels shown in a message, of the data and of the rule.
_SHOWN = 5
_SHOWN_WANTED = 6
#: Only the most frequent labels of the data are compared with the rule's.
_SCORED = 200
#: Similarity (difflib ratio of the folded labels) from which two spellings are close.
_CLOSE = 0.75
#: How the fix reads for each kind of label.
_HINTS = {
    "event": (
        "Map the data's event labels when loading (event_map={mapping}), or name the data's "
        "own labels in the rule"
    ),
    "channel": (
        "Map the data's channel labels when loading (channel_map={mapping}), or name the "
        "data's own labels in the rule"
    ),
    "channel kind": (
        "Declare the kind of each channel when loading (channels={{'<your channel>': "
        "{target!r}}}), or map channel names to known ones (channel_map=...)"
    ),
    "channel_event": (
        "Write the steps as the data's 'channel:event' labels, or map the data's labels when "
        "loading (event_map=..., channel_map=...)"
    ),
    "direction": "Check the direction column, or drop the direction from the rule",
    "customer": (
        "Name the customers as the touchpoints do (after linking, the persons' 'P<id>' "
        "labels), or check that the mapping is for these touchpoints"
    ),
}


@attrs.frozen(kw_only=True)
class UnmatchedRule:
    """A rule whose labels occur nowhere in the data it was applied to.

    Analyses warn (:class:`~omnijourney.errors.OmnijourneyWarning`) with :meth:`message`
    and note :attr:`line` in their results' summaries.

    Attributes
    ----------
    rule : str
        The rule's field, e.g. ``"JourneyRules.conversion_events"`` or
        ``"FollowUpRule('welcome').response_events"``.
    column : str
        What the labels were looked for in: ``"event"``, ``"channel"``, ``"channel kind"``
        or ``"direction"``.
    wanted : tuple of str
        The labels the rule looks for, those closest to the data's labels first, then in
        label order.
    present : tuple of str
        A few labels the data has, those closest to ``wanted`` first (the same label once
        case, accents and separators are ignored, then similar spellings or a shared word),
        then the most frequent.
    n_present : int
        Number of distinct labels the data has in ``column``.
    consequence : str
        What the rule matching nothing does to the result.
    suggested_map : tuple of (str, str)
        Pairs (label of the data, label of the rule) that are the same label once case,
        accents and separators are ignored, such as ``("Purchase", "purchase")``: mappings
        to make on load.

    Examples
    --------
    >>> import omnijourney as oj
    >>> tp = oj.TouchpointTable.from_columns({
    ...     "customer": ["a", "a"], "time": ["2024-05-01", "2024-05-02"],
    ...     "channel": ["web", "web"], "event": ["vue", "Purchase"]})
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     jt = oj.sessionize(tp)
    >>> u = jt.unmatched[0]
    >>> u.rule, u.present, u.suggested_map
    ('JourneyRules.conversion_events', ('Purchase', 'vue'), (('Purchase', 'purchase'),))
    >>> print(u.line)
    JourneyRules.conversion_events looks for event 'purchase', 'order', 'quote_signed'; the data has 'Purchase', 'vue'
    """

    rule: str
    column: str
    wanted: tuple[str, ...]
    present: tuple[str, ...]
    n_present: int
    consequence: str
    suggested_map: tuple[tuple[str, str], ...] = ()

    @property
    def line(self) -> str:
        """One line for a summary: the rule, what it looks for, what the data has."""
        return (
            f"{self.rule} looks for {self.column} {self._wanted_text()}; "
            f"the data has {self._present_text()}"
        )

    def message(self) -> str:
        """The warning's text: the rule, the labels, the consequence and how to fix it."""
        target = self.wanted[0] if self.wanted else ""
        pairs = self.suggested_map or (("<your label>", target),)
        mapping = "{" + ", ".join(f"{a!r}: {b!r}" for a, b in pairs) + ", ...}"
        hint = _HINTS[self.column].format(target=target, mapping=mapping)
        return (
            f"{self.rule} matches no {self.column} of the data: it looks for "
            f"{self._wanted_text()}, and the data has {self._present_text()}. "
            f"{self.consequence}. {hint}."
        )

    def _wanted_text(self) -> str:
        more = len(self.wanted) - _SHOWN_WANTED
        if more <= 0:
            return _quoted(self.wanted)
        return f"{_quoted(self.wanted[:_SHOWN_WANTED])}... ({len(self.wanted)} labels)"

    def _present_text(self) -> str:
        if not self.present:
            return "none"
        more = self.n_present - len(self.present)
        return _quoted(self.present) + (f" (and {more:,} more)" if more > 0 else "")

    def __str__(self) -> str:
        return self.message()


def _quoted(labels: Iterable[str]) -> str:
    return ", ".join(repr(str(x)) for x in labels)


def _words(text: str) -> list[str]:
    """The words of a label, case and accents ignored: 'Achat_Web' -> ['achat', 'web']."""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    plain = "".join(
        ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch)
    )
    return plain.split()


def _fold(text: str) -> str:
    """Case, accents and separators ignored: 'Achat_Web' and 'achat web' fold alike."""
    return "".join(_words(text))


# --------------------------------------------------------------------------- checks


def label_hits(labels: np.ndarray, wanted: Iterable[Any]) -> np.ndarray:
    """Which of the (dictionary) ``labels`` are among ``wanted``."""
    names = {str(w) for w in wanted}
    return np.array([str(x) in names for x in labels.tolist()], dtype=bool)


def used(hits: np.ndarray, codes: np.ndarray) -> bool:
    """Whether some row's code (``-1`` for null) points at a label where ``hits`` holds.

    The dictionary is looked at first: labels it lacks cannot be used.
    """
    if not hits.any() or codes.size == 0:
        return False
    return bool(np.append(hits, False)[codes].any())


def describe(
    table: Table,
    column: str,
    rule: str,
    wanted: Iterable[Any],
    consequence: str,
    *,
    shown: str | None = None,
) -> UnmatchedRule:
    """An :class:`UnmatchedRule` for labels ``wanted`` that no row of ``table`` has.

    ``shown`` names what the labels are looked for in the message when it is not the
    column (``"channel kind"``: the channels are shown with their kinds).
    """
    codes = table.raw(column).astype(np.int64)
    counts = np.bincount(codes[codes >= 0], minlength=table.labels(column).size)
    texts = [str(x) for x in table.labels(column).tolist()]
    if shown == "channel kind":
        kinds = {c.name: c.kind.value for c in table.channel_catalog}  # type: ignore[attr-defined]
        texts = [f"{t} ({kinds.get(t, 'other')})" for t in texts]
    return describe_labels(
        texts, counts, rule, shown or column, wanted, consequence, close=shown is None
    )


def describe_labels(
    labels: Sequence[str],
    counts: np.ndarray,
    rule: str,
    column: str,
    wanted: Iterable[Any],
    consequence: str,
    *,
    close: bool = True,
) -> UnmatchedRule:
    """An :class:`UnmatchedRule` from the data's ``labels`` and how often each occurs."""
    present = np.flatnonzero(counts)
    by_frequency = sorted(present.tolist(), key=lambda i: (-int(counts[i]), labels[i]))
    frequent = [labels[i] for i in by_frequency[:_SCORED]]
    want = sorted({str(w) for w in wanted})
    pairs = _close_pairs(frequent, want) if close else []
    # the data's labels close to the rule's come first, then the most frequent; the rule's
    # labels close to the data's likewise
    first_data = list(dict.fromkeys(a for a, _, _ in pairs))
    first_rule = list(dict.fromkeys(b for _, b, _ in pairs))
    return UnmatchedRule(
        rule=rule,
        column=column,
        wanted=tuple(first_rule + [w for w in want if w not in first_rule]),
        present=tuple((first_data + [t for t in frequent if t not in first_data])[:_SHOWN]),
        n_present=int(present.size),
        consequence=consequence,
        # only the same label written otherwise is a safe suggestion: 'checkout_bug' is
        # spelt like 'checkout', and is not one
        suggested_map=tuple((a, b) for a, b, same in pairs if same),
    )


def _close_pairs(data: Sequence[str], rule: Sequence[str]) -> list[tuple[str, str, bool]]:
    """(data label, closest rule label, same once folded) for the data labels that are the
    same label folded, are spelt alike, or share a word of four letters or more with a rule
    label ('payment_error' and 'payment_failed'); the closest first."""
    folded = [(w, _fold(w), {x for x in _words(w) if len(x) >= 4}) for w in rule]
    found: list[tuple[float, str, str]] = []
    for text in data:
        f, words = _fold(text), set(_words(text))
        best, score = "", 0.0
        for w, fw, ww in folded:
            s = 2.0 if f == fw else difflib.SequenceMatcher(None, f, fw).ratio()
            if s < 2.0 and words & ww:
                s = max(s, _CLOSE + s / 4)  # a shared word makes them close, ranked by spelling
            if s > score:
                best, score = w, s
        if score >= _CLOSE:
            found.append((-score, text, best))
    found.sort()
    return [(text, w, score == -2.0) for score, text, w in found]


def check_labels(
    table: Table,
    column: str,
    rule: str,
    wanted: Iterable[Any] | None,
    consequence: str,
) -> UnmatchedRule | None:
    """The :class:`UnmatchedRule` when ``table`` has rows and none of them has a label of
    ``wanted`` in ``column``; None when the rule matches, is empty, or the table is empty."""
    if wanted is None or len(table) == 0:
        return None
    names = frozenset(str(w) for w in wanted)
    if not names or column not in table.columns:
        return None
    if used(label_hits(table.labels(column), names), table.raw(column)):
        return None
    return describe(table, column, rule, names, consequence)


def check_kinds(
    table: Table, rule: str, kinds: Iterable[Any], consequence: str
) -> UnmatchedRule | None:
    """The :class:`UnmatchedRule` when no channel used by ``table``'s rows is of ``kinds``."""
    wanted = {getattr(k, "value", k) for k in kinds}
    if len(table) == 0 or not wanted:
        return None
    catalog = table.channel_catalog  # type: ignore[attr-defined]
    hits = np.array([c.kind.value in wanted for c in catalog], dtype=bool)
    if used(hits, table.raw("channel")):
        return None
    return describe(table, "channel", rule, wanted, consequence, shown="channel kind")


def check_conversions(
    data: Any, table: Table, events: Iterable[str], func: str, explicit: bool, consequence: str
) -> tuple[UnmatchedRule, ...]:
    """Warn when no row of ``table`` has one of the conversion ``events`` of ``func``.

    A JourneyTable's own conversion events were checked (and warned about) by
    :func:`~omnijourney.sessionize`: they are only passed on, to be noted in the result.
    """
    # a journey table (the result of sessionize, with its rules and their unmatched ones)
    if not explicit and isinstance(getattr(data, "rules", None), JourneyRules):
        return conversions_unmatched(data)
    rule = (
        f"{func}(conversion_events=...)" if explicit else f"the default conversion_events of {func}"
    )
    return warn([check_labels(table, "event", rule, events, consequence)])


# --------------------------------------------------------------------------- reporting


def _caller_level() -> int:
    """``stacklevel`` that points a warning at the first frame outside omnijourney."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame: Any = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(root):
        frame = frame.f_back
        level += 1
    return level


def warn(unmatched: Iterable[UnmatchedRule | None]) -> tuple[UnmatchedRule, ...]:
    """Warn once for each rule that matched nothing; return them (Nones dropped)."""
    found = tuple(u for u in unmatched if u is not None)
    for u in found:
        warnings.warn(u.message(), OmnijourneyWarning, stacklevel=_caller_level())
    return found


def noted(table: T, unmatched: Sequence[UnmatchedRule]) -> T:
    """``table`` with one note per unmatched rule (shown when the table is printed)."""
    if unmatched:
        notes = (*table.notes, *(f"unmatched: {u.line}" for u in unmatched))
        return table.replace_columns(meta={"notes": notes})
    return table


# --------------------------------------------------------------------------- journey rules


def journey_rule_fields(rules: Any) -> list[tuple[str, str, frozenset[str], str]]:
    """The label rules of a :class:`JourneyRules` that are set: (field, column, labels,
    consequence when nothing matches)."""
    fields = [
        (
            "conversion_events",
            "event",
            rules.conversion_events,
            "No journey converts: conversions, values and conversion end reasons stay empty",
        ),
        (
            "stages.events",
            "event",
            frozenset(e for e, _ in rules.stages.events),
            "No journey reaches a stage",
        ),
        (
            "start_events",
            "event",
            rules.start_events,
            "No journey opens at a start event",
        ),
        (
            "single_touch_channels",
            "channel",
            rules.single_touch_channels or frozenset(),
            "Every channel groups its touchpoints into visits by inactivity",
        ),
        (
            "channel_timeouts",
            "channel",
            frozenset(c for c, _ in rules.channel_timeouts),
            "Every channel uses visit_timeout",
        ),
    ]
    return [f for f in fields if f[2]]


def journey_rules_matched(table: Table, rules: Any) -> frozenset[str]:
    """The fields of ``rules`` (see :func:`journey_rule_fields`) that some row matches."""
    return frozenset(
        field
        for field, column, wanted, _ in journey_rule_fields(rules)
        if used(label_hits(table.labels(column), wanted), table.raw(column))
    )


def conversions_unmatched(jt: Any) -> tuple[UnmatchedRule, ...]:
    """The journey table's unmatched conversion events, if so: analyses that read its
    conversions note it without warning again (:func:`~omnijourney.sessionize` did)."""
    return tuple(u for u in jt.unmatched if u.rule == "JourneyRules.conversion_events")


def journey_rules_unmatched(
    table: Table, rules: Any, matched: frozenset[str]
) -> tuple[UnmatchedRule, ...]:
    """The set fields of ``rules`` outside ``matched``, described against ``table``."""
    if len(table) == 0:
        return ()
    return tuple(
        describe(table, column, f"JourneyRules.{field}", wanted, consequence)
        for field, column, wanted, consequence in journey_rule_fields(rules)
        if field not in matched
    )
