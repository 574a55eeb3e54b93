"""A resolution saved to one file and read back: state that lasts between runs.

The file is a zip archive (stored, not compressed) of numpy ``.npy`` arrays and one
``meta.json``: the records (codes, dictionaries and kinds of every column), the ids, the
candidate pairs and their levels, the scores of both passes, the normalized values and the
models, rules and overrides (as JSON). Text dictionaries are stored as UTF-8 buffers; no
array is pickled, so reading a file runs no code from it. numpy and the standard library are
all it needs: the core writes it without optional dependencies (parquet would need pyarrow,
an extra, and would not hold the pair states and models more simply).

The file is written beside its destination and moved into place in one step
(``os.replace``): a failure leaves the earlier file intact. Reading checks the format
name, its version and the size of every array, and raises a :class:`~omnijourney.DataError`
naming what is wrong for a foreign, corrupt or newer file.
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from omnijourney.errors import DataError
from omnijourney.identity._candidates import Candidates, cap
from omnijourney.identity._fellegi_sunter import FellegiSunterModel
from omnijourney.identity._households import memberships
from omnijourney.identity._incremental import ResolutionChanges
from omnijourney.identity._links import Context, Scores
from omnijourney.identity._normalize import NormalizedField
from omnijourney.identity._privacy import Tombstones
from omnijourney.identity._records import CustomerRecordTable, NormalizedRecords
from omnijourney.identity._resolution import Resolution
from omnijourney.identity._rules import KEY_FIELDS, Overrides, ResolutionRules
from omnijourney.tables import ColumnSpec, Table

__all__ = ["FORMAT", "VERSION", "load_resolution", "save_resolution"]

#: Name of the format, written in every file.
FORMAT = "omnijourney.identity.resolution"
#: Version of the format; a file of another version is refused.
VERSION = 1

_WHAT = "saved resolution"


def _text_arrays(name: str, labels: np.ndarray, out: dict[str, np.ndarray]) -> None:
    """A dictionary of labels as arrays: numbers as they are, text as one UTF-8 buffer."""
    if labels.dtype.kind in "iufb":
        out[f"{name}.values"] = labels
        return
    items = [str(v) for v in labels.tolist()]
    joined = "\x00".join(items)
    if joined.count("\x00") == max(len(items) - 1, 0):
        out[f"{name}.utf8"] = np.frombuffer(joined.encode("utf-8", "surrogatepass"), np.uint8)
    else:
        # a label holding the separator: the list as JSON
        out[f"{name}.json"] = np.frombuffer(json.dumps(items).encode(), np.uint8)
    out[f"{name}.count"] = np.array([len(items)], dtype=np.int64)


def _read_text(name: str, arrays: dict[str, np.ndarray]) -> np.ndarray:
    if f"{name}.values" in arrays:
        return arrays[f"{name}.values"]
    count = int(arrays[f"{name}.count"][0])
    if f"{name}.json" in arrays:
        items = json.loads(arrays[f"{name}.json"].tobytes().decode())
    else:
        text = arrays[f"{name}.utf8"].tobytes().decode("utf-8", "surrogatepass")
        items = text.split("\x00") if count else []
    if len(items) != count:
        msg = f"the dictionary {name!r} holds {len(items)} values, its header says {count}"
        raise DataError(msg, table=_WHAT)
    out = np.empty(count, dtype=object)
    out[:] = items
    return out


def _dump(obj: Any) -> Any:
    from omnijourney.io import to_json

    return json.loads(to_json(obj))


def _load(value: Any, cls: type) -> Any:
    from omnijourney.io import from_json

    return from_json(json.dumps(value), cls)


def save_resolution(res: Resolution, path: str | os.PathLike[str]) -> Path:
    """Write a resolution to ``path`` (see :meth:`Resolution.save`)."""
    path = Path(path)
    state = res.state()
    cand, scores = state.cand, state.scores
    arrays: dict[str, np.ndarray] = {}
    records = res.records
    columns = []
    for name in records.columns:
        spec = records.spec(name)
        columns.append({"name": name, "kind": spec.kind})
        arrays[f"records/{name}"] = records.raw(name)
        if spec.kind == "category":
            _text_arrays(f"records/{name}/labels", records.labels(name), arrays)
    fields = []
    for name, f in cand.norm_all.fields.items():
        fields.append(name)
        arrays[f"norm/{name}/codes"] = f.codes
        arrays[f"norm/{name}/status"] = f.status
        _text_arrays(f"norm/{name}/labels", f.labels, arrays)
    arrays["norm/dob_days"] = cand.norm_all.dob_days
    for name, marks in cand.marks.items():
        arrays[f"marks/{name}"] = marks
    small = np.int32 if cand.n < 2**31 else np.int64
    arrays.update(
        {
            "person_id": res.person_id,
            "household_id": res.household_id,
            "pairs/left": cand.left.astype(small),
            "pairs/right": cand.right.astype(small),
            "pairs/bits": cand.bits,
            "pairs/gamma": cand.gamma,
            "pairs/stats": cand.stats,
            "pairs/sorted_keys": cand.sorted_keys,
            "pairs/sorted_at": cand.sorted_at.astype(small),
            "scores/base": scores.base,
            "scores/weight0": scores.weight0,
            "scores/linked0": scores.linked0,
            "scores/entity": scores.entity,
            "scores/weight": scores.weight,
            "scores/person_weight": scores.person_weight,
            "scores/linked": scores.linked,
            "scores/person_link": scores.person_link,
            "scores/component": scores.component,
            "scores/link": scores.link,
            "scores/unsettled": scores.unsettled,
            "scores/refused": scores.refused,
        }
    )
    for c, own in scores.own.items():
        arrays[f"scores/own/{c}"] = own
    periods = memberships(res)
    for name in ("person_id", "household_id", "since", "until"):
        arrays[f"memberships/{name}"] = periods.raw(name)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "records": len(records),
        "pairs": int(cand.left.size),
        "columns": columns,
        "fields": fields,
        "own": sorted(scores.own),
        "rules": _dump(res.rules),
        "overrides": _dump(res.overrides),
        "model": _dump(res.model),
        "person_model": None if res.person_model is None else _dump(res.person_model),
        "changes": _dump(attrs.evolve(res.changes, feed=None)),
        "tombstones": _dump(res.tombstones),
        "arrays": sorted(arrays),
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
                zf.writestr("meta.json", json.dumps(meta))
                for key, arr in arrays.items():
                    with zf.open(f"{key}.npy", "w", force_zip64=True) as out:
                        np.lib.format.write_array(
                            out, np.ascontiguousarray(arr), allow_pickle=False
                        )
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def _open(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The metadata and arrays of a file, checked."""
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError) as exc:
        msg = f"{str(path)!r} is not a {_WHAT} (not a zip archive: {exc})"
        raise DataError(msg, table=_WHAT) from exc
    with zf:
        try:
            meta = json.loads(zf.read("meta.json"))
        except KeyError as exc:
            msg = f"{str(path)!r} is not a {_WHAT}: it has no meta.json"
            raise DataError(msg, table=_WHAT) from exc
        except (ValueError, zipfile.BadZipFile) as exc:
            msg = f"{str(path)!r}: meta.json is unreadable ({exc})"
            raise DataError(msg, table=_WHAT) from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            found = meta.get("format") if isinstance(meta, dict) else None
            msg = f"{str(path)!r} is not a {_WHAT} (format {found!r}, expected {FORMAT!r})"
            raise DataError(msg, table=_WHAT)
        if meta.get("version") != VERSION:
            msg = (
                f"{str(path)!r} was written in version {meta.get('version')!r} of the format; "
                f"this version of omnijourney reads version {VERSION} only"
            )
            raise DataError(msg, table=_WHAT)
        arrays = {}
        try:
            for key in meta["arrays"]:
                with zf.open(f"{key}.npy") as fh:
                    arrays[key] = np.lib.format.read_array(fh, allow_pickle=False)
        except (KeyError, ValueError, zipfile.BadZipFile, EOFError, OSError) as exc:
            msg = f"{str(path)!r} is damaged: array {key!r} cannot be read ({exc})"
            raise DataError(msg, table=_WHAT) from exc
    return meta, arrays


def _check(arrays: dict[str, np.ndarray], keys: list[str], size: int, what: str) -> None:
    for key in keys:
        if arrays[key].shape[:1] != (size,):
            msg = f"array {key!r} has {arrays[key].shape[0]} rows for {size} {what}"
            raise DataError(msg, table=_WHAT)


def load_resolution(path: str | os.PathLike[str]) -> Resolution:
    """Read a resolution written by :func:`save_resolution` (see :meth:`Resolution.load`)."""
    from omnijourney.identity._resolve import override_rows, resolution_of, with_ids

    meta, arrays = _open(Path(path))
    n, m = int(meta["records"]), int(meta["pairs"])
    try:
        _check(arrays, ["person_id", "household_id", "norm/dob_days"], n, "records")
        _check(arrays, [k for k in arrays if k.startswith(("pairs/", "scores/"))
                        and k not in ("pairs/stats", "scores/entity", "scores/component",
                                      "scores/unsettled") and not k.startswith("scores/own")],
               m, "pairs")  # fmt: skip
        records = _records(meta, arrays, n)
        rules = _load(meta["rules"], ResolutionRules)
        overrides = _load(meta["overrides"], Overrides)
        model = _load(meta["model"], FellegiSunterModel)
        person_model = (
            None
            if meta["person_model"] is None
            else _load(meta["person_model"], FellegiSunterModel)
        )
        changes = _load(meta["changes"], ResolutionChanges)
        norm_all = NormalizedRecords(
            {
                name: NormalizedField(
                    name,
                    arrays[f"norm/{name}/codes"],
                    _read_text(f"norm/{name}/labels", arrays),
                    arrays[f"norm/{name}/status"],
                )
                for name in meta["fields"]
            },
            arrays["norm/dob_days"],
            rules.normalize,
        )
        _check(arrays, [f"norm/{f}/codes" for f in meta["fields"]], n, "records")
    except KeyError as exc:
        msg = f"{str(path)!r} is damaged: {exc} is missing"
        raise DataError(msg, table=_WHAT) from exc
    norm, counts, _, shared_count = cap(norm_all, rules)
    marks = {k[len("marks/") :]: v for k, v in arrays.items() if k.startswith("marks/")}
    shared = {k: shared_count[k] | (marks.get(k, 0) > 0) for k in shared_count}
    groups = records.raw("source").astype(np.int64) if rules.link_only else None
    cand = Candidates(
        rules=rules,
        comps=tuple(rules.comparisons or ()),
        norm_all=norm_all,
        norm=norm.usable(),
        key_counts=counts,
        marks={k: marks.get(k, np.zeros(0, np.int64)) for k in KEY_FIELDS if k in norm_all},
        shared=shared,
        no_identifier=~norm_all.has_identifier(),
        groups=groups,
        must=override_rows(records, overrides.must_link, "must_link"),
        cannot=tuple(  # type: ignore[arg-type]
            np.concatenate(pair)
            for pair in zip(
                override_rows(records, overrides.cannot_link, "cannot_link"),
                override_rows(records, overrides.never_merge, "never_merge"),
            )
        ),
        never=override_rows(records, overrides.never_merge, "never_merge"),
        left=arrays["pairs/left"].astype(np.int64),
        right=arrays["pairs/right"].astype(np.int64),
        bits=arrays["pairs/bits"],
        gamma=arrays["pairs/gamma"],
        stats=arrays["pairs/stats"],
        sorted_keys=arrays["pairs/sorted_keys"],
        sorted_at=arrays["pairs/sorted_at"].astype(np.int64),
    )
    ctx = Context(cand, records, model, person_model)
    scores = Scores(
        base=arrays["scores/base"],
        weight0=arrays["scores/weight0"],
        linked0=arrays["scores/linked0"],
        entity=arrays["scores/entity"],
        own={int(c): arrays[f"scores/own/{c}"] for c in meta["own"]},
        counts=ctx.counts(),
        weight=arrays["scores/weight"],
        person_weight=arrays["scores/person_weight"],
        linked=arrays["scores/linked"],
        person_link=arrays["scores/person_link"],
        component=arrays["scores/component"],
        link=arrays["scores/link"],
        unsettled=arrays["scores/unsettled"],
        refused=arrays["scores/refused"],
    )
    res = resolution_of(records, ctx, scores, overrides)
    res = with_ids(res, arrays["person_id"], arrays["household_id"], changes)
    periods = Table.from_columns(
        {name: arrays[f"memberships/{name}"] for name in ("person_id", "household_id", "since",
                                                          "until")},
        kinds={"since": "time", "until": "time"},
    )  # fmt: skip
    new = attrs.evolve(
        res, tombstones=_load(meta.get("tombstones", {}), Tombstones), memberships=periods
    )
    object.__setattr__(new, "_state", res._state)
    return new


def _records(meta: dict[str, Any], arrays: dict[str, np.ndarray], n: int) -> CustomerRecordTable:
    schema = {s.name: s for s in CustomerRecordTable.schema}
    data, labels, specs = {}, {}, {}
    for col in meta["columns"]:
        name, kind = col["name"], col["kind"]
        data[name] = arrays[f"records/{name}"]
        if kind == "category":
            labels[name] = _read_text(f"records/{name}/labels", arrays)
        specs[name] = schema.get(name, ColumnSpec(name, kind))
    _check(arrays, [f"records/{c['name']}" for c in meta["columns"]], n, "records")
    return CustomerRecordTable.from_arrays(data, labels, specs=specs)
