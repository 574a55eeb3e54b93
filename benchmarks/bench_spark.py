"""Sessionization on Spark: ``omnijourney.spark.sessionize`` in local mode on this machine,
against the local ``oj.sessionize`` on the same touchpoints.

One machine is not where Spark pays off: the case measures what the distribution costs (JVM,
Arrow transfers, a shuffle by customer) and checks that both give the same journeys. Setup
(not timed) starts the Spark session, creates and caches the DataFrame; the timed section
sessionizes and writes the touchpoints with their journey ranks to a no-op sink, and counts
the journeys. Peak RSS is the driver's Python process only (the JVM and the Python workers
are other processes). Needs ``pip install 'omnijourney[spark]'`` and Java.
"""

from __future__ import annotations

from _case import OMNIJOURNEY, Case

SIZES = (10**6,)

WORLD = """
import numpy as np
import omnijourney as oj
world = oj.synth.generate(max(n // 100, 10), seed=seed, touchpoints_per_customer=105,
                          records=False, prices=False)
tp = world.touchpoints.select(["customer", "time", "channel", "event"])
del world
frame = tp.to_pandas(categorical=False)
"""
SPARK = """
import os, sys
os.environ["PYSPARK_PYTHON"] = sys.executable
from pyspark.sql import SparkSession
import omnijourney.spark
spark = (SparkSession.builder.master("local[2]").config("spark.sql.session.timeZone", "UTC")
         .config("spark.ui.enabled", "false").config("spark.driver.memory", "4g")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
df = spark.createDataFrame(frame).repartition(4).cache()
df.count()
del frame, tp
"""
CASES = [
    case
    for n in SIZES
    for case in (
        Case(
            case="sessionize",
            tool=OMNIJOURNEY,
            size=n,
            unit="touchpoints",
            setup=WORLD + "del tp\n",
            measure=("table = oj.TouchpointTable.from_columns(frame)\njt = oj.sessionize(table)\n"),
            report="{'check': len(jt.journeys)}",
            requires=("pandas",),
            pip="pandas",
        ),
        Case(
            case="sessionize",
            tool="omnijourney.spark local[2]",
            size=n,
            unit="touchpoints",
            setup=WORLD + SPARK,
            measure=(
                "res = omnijourney.spark.sessionize(df, partitions=4)\n"
                "res.touchpoints.write.format('noop').mode('overwrite').save()\n"
                "n_journeys = res.journeys.count()\n"
            ),
            report="{'check': n_journeys}",
            requires=("pyspark", "pandas", "pyarrow"),
            pip="'omnijourney[spark]'",
            repeat=1,
        ),
    )
]
