"""The two instants of price intervals that are not times: unknown (NaT) and open-ended.

The array machinery over sorted intervals (grouped search, range minima, runs, packing) is
the package's, in ``omnijourney._arrays``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NAT", "OPEN"]

#: int64 value of NaT.
NAT = int(np.iinfo(np.int64).min)
#: End of an open-ended interval: later than any real time, with room for arithmetic.
OPEN = 2**62
