"""Write the JSON documents that later versions of omnijourney must still read.

``python tests/data/json_golden.py`` writes one file per document into ``tests/data/json/``
with the installed omnijourney, and ``manifest.json`` with the type each one holds and the
version that wrote it. The files kept in the repository were written before types registered
their own JSON state, and are read by ``tests/test_json_state.py``: rerun the script only to
add documents, never to replace the old ones (they are the oracle).

Every object is small and built from fixed inputs (seeded generators, literal values).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import warnings
from pathlib import Path

import numpy as np

import omnijourney as oj

OUT = Path(__file__).resolve().parent / "json"


def documents() -> dict[str, tuple[str, object]]:
    """name -> (type path, object)."""
    utc = dt.timezone.utc
    t0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=utc)
    tp_record = oj.Touchpoint(
        customer="C1",
        time=t0,
        channel="web",
        event="purchase",
        value=42.5,
        currency="EUR",
        direction="inbound",
        order_id="O1",
        sequence=3,
        attributes={"store": "Lyon", "basket": 2},
    )
    customer = oj.Customer(
        id=7, household_id="H1", identifiers={"email": "ana@example.org"}, attributes={"vip": True}
    )
    channel = oj.Channel("kiosk", kind="physical", initiator="either")
    tp = oj.TouchpointTable.from_columns(
        {
            "client": ["c2", "c1", "c1", "c2", "c1", "c1"],
            "ts": [
                "2024-05-02T09:00:00Z",
                "2024-05-01T10:05:00Z",
                "2024-05-01T10:00:00Z",
                "2024-05-02T08:00:00Z",
                "2024-05-03T18:30:00Z",
                "2024-05-20T11:00:00Z",
            ],
            "canal": ["kiosk", "web", "web", "web", "call_centre", "web"],
            "what": ["purchase", "add_to_cart", "product_view", "product_view", "call", "purchase"],
            "amount": [120.0, None, None, None, None, float("nan")],
            "dir": [None, None, None, None, "outbound", None],
            "store": ["Lyon", None, None, None, None, None],
        },
        customer="client",
        time="ts",
        channel="canal",
        event="what",
        value="amount",
        direction="dir",
        extra=["store"],
        channels={"kiosk": "physical"},
    ).sort()
    rules = oj.JourneyRules(visit_timeout="30min", journey_timeout="7D")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        journeys = oj.sessionize(tp, rules)
    free = oj.Table.from_columns({"sku": ["a", "b", None], "n": [1, 2, 3]}).replace_columns(
        {"x": np.array([1.5, np.inf, np.nan])}  # non-finite floats, as results hold them
    )
    world = oj.synth.generate(12, seed=3, records=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        audit = oj.pricing.audit(
            world.prices.prices,
            world.prices.promotions,
            stock=world.prices.stock,
            catalog=world.prices.catalog,
        )
    promotions = oj.pricing.PromotionTable.from_columns(
        {
            "promo_id": ["P1", "P2"],
            "sku": ["A1", "A2"],
            "channel": ["web", "store"],
            "mechanic": ["percentage", "fixed_price"],
            "discount": [20.0, None],
            "promo_price": [None, 9.99],
            "start": ["2024-05-01", "2024-05-03"],
            "end": ["2024-05-08", None],
            "audience": ["public", "loyalty"],
        }
    )
    paths = oj.PathTable.from_strings(
        ["web > store", "email > web > store", "web", "app > web"],
        conversions=[1, 2, 0, 1],
        value=[10.0, 30.0, 0.0, 5.0],
        nulls=[2, 1, 4, 0],
    )
    markov = oj.attribution.markov(paths)
    return {
        "touchpoint": ("omnijourney.model.Touchpoint", tp_record),
        "customer": ("omnijourney.model.Customer", customer),
        "channel": ("omnijourney.model.Channel", channel),
        "journey": ("omnijourney.model.Journey", journeys[0]),
        "touchpoint_table": ("omnijourney.tables.TouchpointTable", tp),
        "table": ("omnijourney.tables.Table", free),
        "journey_rules": ("omnijourney.journeys.JourneyRules", rules),
        "journey_table": ("omnijourney.journeys.JourneyTable", journeys),
        "session_state": ("omnijourney.journeys.SessionState", journeys.state),
        "policy": ("omnijourney.pricing.Policy", oj.pricing.Policy.france(map_floors={"A1": 2})),
        "price_table": (
            "omnijourney.pricing.PriceTable",
            oj.pricing.PriceTable.from_columns(world.prices.prices.head(6)),
        ),
        "promotion_table_enums": ("omnijourney.pricing.PromotionTable", promotions),
        "price_audit": ("omnijourney.pricing.PriceAudit", audit),
        "path_table": ("omnijourney.attribution.PathTable", paths),
        "attribution": ("omnijourney.attribution.Attribution", markov),
    }


def main() -> None:
    OUT.mkdir(exist_ok=True)
    manifest = {"written_by": oj.__version__, "documents": {}}
    for name, (path, obj) in documents().items():
        (OUT / f"{name}.json").write_text(oj.to_json(obj, indent=1) + "\n", "utf-8")
        manifest["documents"][name] = path
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", "utf-8")
    print(f"wrote {len(manifest['documents'])} documents to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
