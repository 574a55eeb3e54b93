"""A small synthetic world is the same on every supported numpy (the floor and the newest).

The continuous integration runs this test in both of its environments, so a draw whose stream
changes with numpy's version (a sampler rewritten upstream) fails here, naming the tables it
changed, before the tutorials' printed outputs do. Floats are compared to 6 decimals (amounts
are cents, times are integers): only a different draw changes them.

A deliberate change of the generator changes the digests: ``python tests/test_synth_digest.py``
prints those of the current environment, to be pasted below once both environments agree.
"""

from __future__ import annotations

import hashlib

import attrs
import numpy as np

import omnijourney as oj
from omnijourney.synth.prices import price_stories
from omnijourney.tables import Table

#: sha256 prefixes of each table of ``all_digests()``, the same on numpy 1.25 and 2.4.
DIGESTS = {
    "customers": "fbfcf62d00beb6ee",
    "observed": "27318f4482d33ddd",
    "prices.catalog": "412c101d694fd928",
    "prices.near_misses": "521f5f5404810010",
    "prices.opt_in_violations": "e321db74e86c778b",
    "prices.prices": "9469477a539eeffd",
    "prices.promotions": "b6748ae9f558b30a",
    "prices.stock": "0b0413d31b3fb599",
    "prices.violations": "f9fb0a0073c93a5b",
    "records": "0c41b1faac4078a6",
    "stories.catalog": "ab410577d784bd17",
    "stories.incidents": "38557c1d842be228",
    "stories.prices": "947cfd56dccb2748",
    "stories.promotions": "57fae8ce0a95e2c7",
    "stories.stock": "14920854a8e4adaa",
    "touchpoints": "9d28b4930669564a",
    "truth.breaks": "9be7aa51bca3e57e",
    "truth.exposures": "23db47c1b8b7b488",
    "truth.followups": "6f7de9ad1a768bdc",
    "truth.journeys": "14958a0d2efa469a",
    "truth.observed": "85b427f4caefb0ba",
    "truth.price_mismatches": "cc61ffc2b5809701",
}


def world() -> oj.synth.World:
    return oj.synth.generate(300, seed=5, days=120, difficulty="realistic")


def all_digests() -> dict[str, str]:
    """The world's tables, and those of 40 skus' price stories."""
    stories = price_stories(40, seed=5)
    return digests(world()) | digests(stories, "stories.")


def column_bytes(values: object) -> bytes:
    a = np.asarray(values)
    if a.dtype.kind == "f":
        return (np.round(a.astype(np.float64), 6) + 0.0).astype("<f8").tobytes()
    if a.dtype.kind in "iub":
        return a.astype("<i8").tobytes()
    if a.dtype.kind == "M":
        return a.astype("datetime64[us]").astype("<i8").tobytes()
    return "\x1f".join("" if v is None else str(v) for v in a.tolist()).encode()


def digests(obj: object, prefix: str = "") -> dict[str, str]:
    """One digest per table reachable from ``obj`` (attrs fields, recursively)."""
    if isinstance(obj, Table):
        h = hashlib.sha256()
        for c in obj.columns:
            h.update(c.encode() + b"\x1e" + column_bytes(obj[c]) + b"\x1d")
        return {prefix.rstrip("."): h.hexdigest()[:16]}
    out: dict[str, str] = {}
    if attrs.has(type(obj)):
        for f in attrs.fields(type(obj)):
            out.update(digests(getattr(obj, f.name), f"{prefix}{f.name}."))
    return out


def test_a_small_world_is_the_same_on_every_numpy() -> None:
    got = all_digests()
    changed = sorted(k for k in DIGESTS.keys() | got.keys() if got.get(k) != DIGESTS.get(k))
    assert changed == [], f"numpy {np.__version__} draws another world: {changed}"


if __name__ == "__main__":
    for name, value in sorted(all_digests().items()):
        print(f'    "{name}": "{value}",')
