"""Price, promotion and stock consistency across channels, with the EU 30-day prior-price rule.

Build the tables from your columns (:class:`PriceTable`, :class:`PromotionTable`,
:class:`StockTable`, :class:`CatalogTable`), choose a :class:`Policy` (:meth:`Policy.eu`,
:meth:`Policy.france`), run :func:`audit` to get every finding in one table, and
:func:`exposure` to see which customers saw or paid the prices concerned.

Examples
--------
>>> import omnijourney as oj
>>> prices = oj.pricing.PriceTable.from_columns({
...     "sku": ["A1", "A1"], "channel": ["web", "app"], "price": [10.0, 12.0],
...     "valid_from": ["2024-05-01", "2024-05-01"]})
>>> result = oj.pricing.audit(prices, policy=oj.pricing.Policy(
...     same_price_groups=[["web", "app"]]), as_of="2024-05-08")
>>> result.findings["rule"].tolist()
['price_gap', 'price_gap']
"""

from omnijourney.pricing._audit import audit
from omnijourney.pricing._exposure import EXPOSURE_RULES, Exposure, exposure
from omnijourney.pricing._findings import Finding, FindingTable, PriceAudit
from omnijourney.pricing._policy import DEFAULT_RULES, RULES, Policy, Tolerance
from omnijourney.pricing._promotion_table import PromotionTable
from omnijourney.pricing._stock_table import CatalogTable, StockTable
from omnijourney.pricing._tables import ISO_4217, Audience, Mechanic, PriceTable, PriceType

__all__ = [
    "DEFAULT_RULES",
    "EXPOSURE_RULES",
    "ISO_4217",
    "RULES",
    "Audience",
    "CatalogTable",
    "Exposure",
    "Finding",
    "FindingTable",
    "Mechanic",
    "Policy",
    "PriceAudit",
    "PriceTable",
    "PriceType",
    "PromotionTable",
    "StockTable",
    "Tolerance",
    "audit",
    "exposure",
]
