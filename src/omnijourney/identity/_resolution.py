"""The result of a resolution: persons and households of records, and the evidence.

:class:`Resolution` holds what :func:`~omnijourney.identity.resolve` found; the capabilities
built on it (golden records, explanations, quality reports, incremental updates, saved state)
live in their own modules and read it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from omnijourney.identity._fellegi_sunter import FellegiSunterModel
from omnijourney.identity._incremental import ResolutionChanges
from omnijourney.identity._privacy import ErasureReport, Tombstones
from omnijourney.identity._records import CustomerRecordTable, NormalizedRecords
from omnijourney.identity._rules import Overrides, ResolutionRules
from omnijourney.tables import Table

if TYPE_CHECKING:
    from omnijourney.identity._state import State

__all__ = ["LINK_LEVELS", "Resolution"]

#: What a pair ended as: not linked, same household, same person.
LINK_LEVELS = ("none", "household", "person")


@attrs.frozen(kw_only=True, eq=False, repr=False)
class Resolution:
    """Persons and households of a set of records, with the evidence that linked them.

    Attributes
    ----------
    records : CustomerRecordTable
        The records resolved, in the order given.
    person_id, household_id : numpy.ndarray of int64
        Person and household of each record, aligned with ``records``. Ids are numbered from 1
        in the canonical order of their first record; a resolution made from an earlier one
        (:meth:`update`, :meth:`with_overrides`) keeps the earlier ids.
    pair_left, pair_right : numpy.ndarray of int64
        Rows of ``records`` of every candidate pair that was scored.
    gamma : numpy.ndarray of int8, shape (n_pairs, n_comparisons)
        Comparison levels of each pair (indices into the levels of the comparisons of
        ``rules`` whose fields the records have, in that order).
    rule : numpy.ndarray of int8
        Blocking rule that found each pair (index into ``rules.blocking``; one past the end
        for must-link overrides).
    match_weight : numpy.ndarray of float64
        Match weight of each pair (log2 odds, term-frequency adjustments included).
    person_weight : numpy.ndarray of float64
        Match weight of the person model (NaN for pairs it did not score).
    link : numpy.ndarray of int8
        Final level of each pair after guards and overrides: 0 none, 1 household, 2 person
        (see :data:`LINK_LEVELS`).
    model : FellegiSunterModel
        The record-level model (household links, or persons without households).
    person_model : FellegiSunterModel or None
        The person model fitted inside household links.
    rules : ResolutionRules
    overrides : Overrides
    no_identifier : numpy.ndarray of bool
        Records without any valid identifier: each stays a person of its own.
    shared_values : Table
        Identifier values treated as household evidence or ignored: ``field``, ``value``,
        ``records``, ``use`` (``household`` or ``ignored``).
    blocking_report : Table
        Pairs found by each blocking rule (see :class:`CandidatePairs`).
    changes : ResolutionChanges
        What changed with respect to the resolution this one was made from (empty for a
        resolution from scratch).
    tombstones : Tombstones
        Keyed hashes of the identifiers of erased records (see :meth:`erase`).
    memberships : Table or None
        Household membership of each person over time: ``person_id``, ``household_id``,
        ``since``, ``until`` (NaT while it lasts; see
        :func:`~omnijourney.identity.households_as_of`).
    """

    records: CustomerRecordTable
    person_id: np.ndarray
    household_id: np.ndarray
    pair_left: np.ndarray
    pair_right: np.ndarray
    gamma: np.ndarray
    rule: np.ndarray
    match_weight: np.ndarray
    person_weight: np.ndarray
    link: np.ndarray
    model: FellegiSunterModel
    person_model: FellegiSunterModel | None
    rules: ResolutionRules
    overrides: Overrides
    no_identifier: np.ndarray
    shared_values: Table
    blocking_report: Table
    changes: ResolutionChanges = attrs.field(factory=ResolutionChanges)
    tombstones: Tombstones = attrs.field(factory=Tombstones)
    memberships: Table | None = attrs.field(default=None, eq=False)
    # what an update continues from: normalized records, pair states, components (not part
    # of the JSON form; rebuilt from the records and the models when missing)
    _state: Any = attrs.field(default=None, init=False)

    @property
    def n_records(self) -> int:
        """Records resolved."""
        return int(self.person_id.size)

    @property
    def n_persons(self) -> int:
        """Distinct persons."""
        return int(np.unique(self.person_id).size)

    @property
    def n_households(self) -> int:
        """Distinct households."""
        return int(np.unique(self.household_id).size)

    def normalized(self) -> NormalizedRecords:
        """The normalized values of ``records`` (aligned with it)."""
        return self.state().cand.norm_all

    def state(self) -> State:
        """What an update continues from (rebuilt from the records and models when the
        resolution was read from JSON)."""
        if self._state is None:
            from omnijourney.identity._state import rebuild_state

            object.__setattr__(self, "_state", rebuild_state(self))
        assert self._state is not None
        return self._state

    def summary(self) -> str:
        """A few lines: records, persons, households, pairs scored and linked, the fields
        compared and the blocking rules."""
        links = np.bincount(self.link.astype(np.int64), minlength=3)
        text = (
            f"Resolution: {self.n_records:,} records -> {self.n_persons:,} persons -> "
            f"{self.n_households:,} households\n"
            f"  pairs scored: {self.pair_left.size:,}; linked as person: {links[2]:,}, "
            f"as household only: {links[1]:,}\n"
            f"  records without identifier: {int(self.no_identifier.sum()):,}\n"
            f"  compared on: {', '.join(c.name for c in self.rules.comparisons or ())}; "
            f"{'persons inside households' if self.rules.households else 'one level'}\n"
            f"  blocked on: {', '.join(r.name for r in self.rules.blocking or ())}"
        )
        if self.changes != ResolutionChanges():
            text += f"\n  changes: {self.changes.summary()}"
        return text

    def __repr__(self) -> str:
        return self.summary()

    def records_of(self, person_id: int) -> np.ndarray:
        """Rows of the records of one person."""
        return np.flatnonzero(self.person_id == person_id)

    def household_of(self, household_id: int) -> np.ndarray:
        """Rows of the records of one household."""
        return np.flatnonzero(self.household_id == household_id)

    def record_key(self, row: int) -> tuple[str, str]:
        """``(source, record_id)`` of a row, as overrides name records."""
        return (str(self.records["source"][row]), str(self.records["record_id"][row]))

    # the capabilities built on a resolution live in their own modules
    def golden_records(self, survivorship: Any = None, *, level: str = "person") -> Table:
        """Golden records (see :func:`~omnijourney.identity.golden_records`)."""
        from omnijourney.identity._golden import golden_records

        return golden_records(self, survivorship, level=level)

    def explain(self, a: int, b: int | None = None) -> Any:
        """Deprecated: use :func:`~omnijourney.identity.explain_pair` (two rows) or
        :func:`~omnijourney.identity.explain_person` (a person id)."""
        from omnijourney.identity._explain import explain_pair, explain_person

        replacement = (
            "explain_person(resolution, person_id)"
            if b is None
            else ("explain_pair(resolution, a, b)")
        )
        warnings.warn(
            f"Resolution.explain is deprecated: use omnijourney.identity.{replacement}",
            DeprecationWarning,
            stacklevel=2,
        )
        return explain_person(self, a) if b is None else explain_pair(self, a, b)

    def erase(
        self,
        *,
        persons: Iterable[int] = (),
        records: Iterable[tuple[str, str]] = (),
        key: bytes | str,
        at: Any = None,
    ) -> tuple[Resolution, ErasureReport]:
        """Erase persons or records; see :func:`~omnijourney.identity.erase`."""
        from omnijourney.identity._privacy import erase

        return erase(self, persons=persons, records=records, key=key, at=at)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the resolution to one file, to be read back with :meth:`load`.

        Everything an update continues from is kept: the records, ids, models, rules,
        overrides, candidate pairs, scores and normalized values. The file (a zip of numpy
        arrays and JSON metadata, see :mod:`omnijourney.identity`) is written beside
        ``path`` and moved into place in one step: a failure leaves an earlier file intact.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from omnijourney.identity import CustomerRecordTable, Resolution, resolve
        >>> recs = CustomerRecordTable.from_columns({"source": ["web", "shop"],
        ...     "record_id": ["W1", "S1"], "email": ["zoe@mail.fr", "Zoe@Mail.fr"]})
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "customers.ojr"
        >>> _ = resolve(recs).save(path)
        >>> Resolution.load(path).person_id.tolist()
        [1, 1]
        """
        from omnijourney.identity._persist import save_resolution

        return save_resolution(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Resolution:
        """Read a resolution written by :meth:`save`.

        Raises
        ------
        DataError
            The file is not a saved resolution, is damaged, or was written in another
            version of the format.
        """
        from omnijourney.identity._persist import load_resolution

        return load_resolution(path)

    def to_pandas(self) -> Any:
        """One row per record: ``source``, ``record_id``, ``person_id``, ``household_id``
        (needs the ``pandas`` extra)."""
        return self.assignments().to_pandas()

    def assignments(self) -> Table:
        """One row per record, in the order of ``records``: ``source``, ``record_id``,
        ``person_id`` and ``household_id``.

        Examples
        --------
        >>> from omnijourney.identity import CustomerRecordTable, resolve
        >>> recs = CustomerRecordTable.from_columns({"source": ["web", "shop"],
        ...     "record_id": ["W1", "S1"], "email": ["zoe@mail.fr", "Zoe@Mail.fr"]})
        >>> resolve(recs).assignments()["person_id"].tolist()
        [1, 1]
        """
        return Table.from_columns(
            {
                "source": self.records["source"],
                "record_id": np.array([str(v) for v in self.records["record_id"]], dtype=object),
                "person_id": self.person_id,
                "household_id": self.household_id,
            },
            kinds={"source": "category", "record_id": "category"},
        )

    def quality_report(self) -> Any:
        """Data-quality report (see :func:`~omnijourney.identity.quality_report`)."""
        from omnijourney.identity._quality import quality_report

        return quality_report(self)

    def with_overrides(self, overrides: Overrides, *, at: Any = None) -> Resolution:
        """The same records resolved again with extra must-link / cannot-link decisions.

        The fitted models are reused and the ids are kept, so only the persons the overrides
        touch change; ``changes`` lists them (the way to undo a wrong merge).

        Examples
        --------
        >>> from omnijourney.identity import CustomerRecordTable, Overrides, resolve
        >>> recs = CustomerRecordTable.from_columns({"source": ["web", "shop"],
        ...     "record_id": ["W1", "S1"], "email": ["zoe@mail.fr", "Zoe@Mail.fr"]})
        >>> res = resolve(recs)
        >>> undone = res.with_overrides(Overrides(cannot_link=[(("web", "W1"), ("shop", "S1"))]))
        >>> res.person_id.tolist(), undone.person_id.tolist(), undone.changes.split_persons
        ([1, 1], [2, 1], ((1, (1, 2)),))
        """
        from omnijourney.identity._state import with_overrides

        return with_overrides(self, overrides, at=at)

    def update(
        self,
        records: CustomerRecordTable,
        *,
        refit: bool = False,
        new_sources: bool = False,
        key: bytes | str | None = None,
        at: Any = None,
    ) -> Resolution:
        """Add a batch of new or updated records; person and household ids stay.

        Records are recognised by (source, record id): a record given again replaces the
        earlier version, the others are added. The result is the resolution of all the
        records (its partition is the one :func:`resolve` finds on them with the same
        rules and models), with the earlier ids kept and ``changes`` listing the persons and
        households created, merged and split.

        Cost: that of the batch. Only the batch's records are normalized; only the blocks
        they fall in are paired again and only their new pairs compared; only the pairs whose
        levels or term-frequency counts moved are scored again, and only the components of
        links those changes reach are clustered again. The partition is the one a full run
        with the same models gives (the models, term-frequency priors included, are those of
        this resolution unless ``refit``, which resolves every record again).

        Parameters
        ----------
        records : CustomerRecordTable
            The batch, with columns the resolved records have (others are missing values).
        refit : bool
            Fit the models again on all the records instead of reusing them.
        new_sources : bool
            Accept records of sources the resolution has not seen (by default a
            :class:`~omnijourney.ConfigError` names them: a misspelt source would otherwise
            make every record of the batch new).
        at : date or time, optional
            When the batch's changes happened, for the household memberships (default: the
            latest ``updated`` or ``created`` time of the batch, else now).
        key : bytes or str, optional
            The key of the resolution's tombstones (needed once a record was erased): a batch
            record holding an erased identifier is refused (drop it, or add it once the
            person has asked anew).

        Raises
        ------
        ConfigError
            The batch is not a :class:`CustomerRecordTable`, has columns the resolved records
            lack or of another kind, names one record twice, comes from unknown sources, or
            holds an erased identifier. The resolution is unchanged.

        Examples
        --------
        >>> from omnijourney.identity import CustomerRecordTable, resolve
        >>> old = CustomerRecordTable.from_columns({"source": ["web", "shop", "web"],
        ...     "record_id": ["W1", "S1", "W2"],
        ...     "email": ["zoe@mail.fr", "paul@mail.fr", "Paul@Mail.fr"]})
        >>> res = resolve(old)
        >>> batch = CustomerRecordTable.from_columns({"source": ["shop"], "record_id": ["S2"],
        ...     "email": ["ZOE@mail.fr"]})
        >>> new = res.update(batch)
        >>> new.person_id.tolist(), new.changes.added_records, new.changes.new_persons
        ([2, 1, 1, 2], 1, ())
        """
        from omnijourney.identity._state import update

        return update(self, records, refit=refit, new_sources=new_sources, key=key, at=at)
