"""Spark: the library's results for data that outgrows one machine (the ``spark`` extra).

Each function takes and returns ``pyspark.sql.DataFrame`` objects and gives, row for row,
what the local function gives on the same data: sessionization, breaks and follow-ups
(partitioned by customer), paths for attribution (aggregated in Spark, modelled on the
driver), the price audit (partitioned by product), identity resolution (by blocking
component) and the connected components it needs.
"""

from omnijourney.spark._breaks import check_followups, detect_breaks
from omnijourney.spark._components import connected_components
from omnijourney.spark._identity import resolve
from omnijourney.spark._paths import paths
from omnijourney.spark._pricing import audit
from omnijourney.spark._sessionize import ID_COLUMNS as ID_COLUMNS
from omnijourney.spark._sessionize import SparkJourneys, sessionize

__all__ = [
    "SparkJourneys",
    "audit",
    "check_followups",
    "connected_components",
    "detect_breaks",
    "paths",
    "resolve",
    "sessionize",
]
