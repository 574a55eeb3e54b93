"""The behaviour the synthetic touchpoints follow: channels, events, episode templates and mixes.

An *episode* is what one customer does towards one goal: an optional opener (a campaign click),
some browsing, then the fixed steps of a template (click & collect, a quote signed in store...).
The goal is reached at a conversion: the steps after it (a pickup) are after-sales, the start of
the next journey.

How long people pause between two steps depends on what they are doing (the step's *pause
kind*: a click within a visit, a return visit, a decision taking days...). With bounded pauses
(the ``"clean"`` world) each kind is drawn log-uniformly between the bounds of :data:`GAPS` and
a customer's goals are more than :data:`GOALS_APART_US` apart; with continuous pauses each kind
is log-normal (:data:`PAUSES`), goals arrive at random times at least :data:`MIN_GOAL_GAP_US`
apart, may overlap, and research may precede a store purchase by weeks (:data:`RESEARCH_WEEKS`).
"""

from __future__ import annotations

import attrs
import numpy as np

#: Channels of the world (sorted: their position is their category code).
CHANNELS: tuple[str, ...] = (
    "app", "call_centre", "chat", "email", "sms", "social", "store", "web",
)  # fmt: skip
CH = {name: i for i, name in enumerate(CHANNELS)}
DIGITAL = -1  # resolved per episode to the customer's web or app
DIGITAL_CHANNELS = (CH["web"], CH["app"])
#: Channels whose touchpoints are visits of their own.
SINGLE_TOUCH = (CH["store"], CH["call_centre"], CH["chat"], CH["email"], CH["sms"], CH["social"])

#: The channel-appetence segments customers are drawn from (their true segment).
SEGMENTS: tuple[str, ...] = ("web_autonomous", "store_relational", "multichannel", "assisted")

#: The role each channel plays by construction: openers inform (campaign clicks start
#: journeys), assists incite (browsing, carts, chat), closers decide (the sale happens there).
CHANNEL_ROLES: dict[str, str] = {
    "email": "opener",
    "sms": "opener",
    "social": "opener",
    "web": "assist",
    "app": "assist",
    "chat": "assist",
    "store": "closer",
    "call_centre": "closer",
}

#: Conversion events: a journey ends at them and keeps them.
CONVERSION_EVENTS = ("order", "purchase", "quote_signed")

#: Gap kinds between consecutive steps: (low, high) bounds, log-uniform, in seconds.
GAPS: dict[str, tuple[float, float]] = {
    "same": (5, 120),
    "visit": (10, 20 * 60),
    "short": (2 * 60, 25 * 60),
    "handoff": (35 * 60, 4 * 3600),
    "hours": (3600, 10 * 3600),
    "pickup": (2 * 3600, 72 * 3600),
    "days": (86_400, 6 * 86_400),
    "next_visit": (3600, 3 * 86_400),
    "late_day": (30 * 3600, 72 * 3600),  # later than 24 h
    "late_2d": (54 * 3600, 5 * 86_400),  # later than 2 days
    "weeks": (21 * 86_400, 42 * 86_400),  # research online, buy in store weeks later
}
GAP_KINDS = tuple(GAPS)
GAP = {name: i for i, name in enumerate(GAP_KINDS)}
#: With bounded pauses, the smallest time between two goals of a customer (15 days).
GOALS_APART_US = (15 * 86_400 + 1) * 1_000_000
#: With continuous pauses, the smallest time between two successive goals that do not overlap.
MIN_GOAL_GAP_US = 86_400 * 1_000_000
#: Continuous pauses: (median seconds, sigma of the log) of the log-normal of each pause kind.
#: A click follows the previous one within about a minute and a half, yet one in a hundred
#: comes after a tab left open for half an hour or more; a customer back "later" usually
#: returns within hours, sometimes within minutes, sometimes weeks later; a call after a
#: failed payment comes within the hour for most, the next days for a few.
PAUSES: dict[str, tuple[float, float]] = {
    "same": (30, 0.9),
    "visit": (100, 1.3),
    "short": (1_200, 2.0),
    "handoff": (2 * 3600, 1.2),
    "hours": (3 * 3600, 1.0),
    "pickup": (26 * 3600, 0.9),
    "days": (2.5 * 86_400, 0.9),
    "next_visit": (5 * 3600, 1.6),
    "late_day": (36 * 3600, 0.3),
    "late_2d": (3 * 86_400, 0.3),
    "weeks": (29 * 86_400, 0.22),
}
#: Research online, buy in store weeks later: the pause kind of such purchases.
RESEARCH_WEEKS = "weeks"
#: Pause kinds that keep the customer in the same visit (a sitting, a call, a walk in store).
IN_VISIT_PAUSES = ("same", "visit")

REFS = ("cart", "order", "quote", "reservation")


@attrs.frozen
class Step:
    """One fixed step of a template."""

    channel: int
    event: str
    gap: str
    refs: tuple[str, ...] = ()
    conversion: bool = False
    outbound: bool = False
    value: str | None = None  # "basket" (the episode's basket amount) or "quote"
    followup: str | None = None  # follow-up rule this step answers (may be late or missing)


@attrs.frozen
class Template:
    """A kind of episode: may it browse first, its fixed steps, and the breaks it contains."""

    name: str
    browse: bool
    steps: tuple[Step, ...]
    #: (break kind, from step, to step) linked by a reference id or by construction
    breaks: tuple[tuple[str, int, int], ...] = ()


_D = DIGITAL
TEMPLATES: tuple[Template, ...] = (
    Template("browse", True, ()),
    Template(
        "abandoned_cart", True, (Step(_D, "add_to_cart", "visit", ("cart",), value="basket"),)
    ),
    Template(
        "web_purchase",
        True,
        (
            Step(_D, "add_to_cart", "visit", ("cart",), value="basket"),
            Step(_D, "purchase", "visit", ("cart", "order"), conversion=True, value="basket"),
        ),
    ),
    Template(
        "store_purchase",
        True,
        (Step(CH["store"], "purchase", "hours", ("order",), conversion=True, value="basket"),),
    ),
    Template(
        "call_purchase",
        False,
        (
            Step(CH["call_centre"], "call", "same"),
            Step(
                CH["call_centre"], "purchase", "same", ("order",), conversion=True, value="basket"
            ),
        ),
    ),
    Template(
        "click_and_collect",
        True,
        (
            Step(_D, "add_to_cart", "visit", ("cart",), value="basket"),
            Step(_D, "order", "visit", ("cart", "order"), conversion=True, value="basket"),
            Step(CH["store"], "pickup", "pickup", ("order",)),
        ),
        breaks=(("click_and_collect", 1, 2),),
    ),
    Template(
        "reserve_and_collect",
        True,
        (
            Step(_D, "reservation", "visit", ("reservation",), value="basket"),
            Step(
                CH["store"],
                "purchase",
                "pickup",
                ("reservation", "order"),
                conversion=True,
                value="basket",
            ),
        ),
        breaks=(("click_and_collect", 0, 1),),
    ),
    Template(
        "quote_web_to_store",
        True,
        (
            Step(_D, "quote_request", "visit", ("quote",)),
            Step(CH["store"], "quote_signed", "days", ("quote",), conversion=True, value="quote"),
        ),
        breaks=(("quote_channel_switch", 0, 1),),
    ),
    Template(
        "quote_store_to_web",
        False,
        (
            Step(CH["store"], "quote_request", "same", ("quote",)),
            Step(_D, "quote_signed", "days", ("quote",), conversion=True, value="quote"),
        ),
        breaks=(("quote_channel_switch", 0, 1),),
    ),
    Template(
        "quote_in_store",
        False,
        (
            Step(CH["store"], "quote_request", "same", ("quote",)),
            Step(CH["store"], "quote_signed", "days", ("quote",), conversion=True, value="quote"),
        ),
    ),
    Template("quote_lost", True, (Step(_D, "quote_request", "visit", ("quote",)),)),
    Template(
        "quote_lost_in_store", False, (Step(CH["store"], "quote_request", "same", ("quote",)),)
    ),
    Template(
        "cart_recovery",
        True,
        (
            Step(_D, "add_to_cart", "visit", ("cart",), value="basket"),
            Step(CH["call_centre"], "call", "handoff", ("cart",), outbound=True),
            Step(
                CH["call_centre"],
                "purchase",
                "same",
                ("cart", "order"),
                conversion=True,
                value="basket",
            ),
        ),
        breaks=(("cart_recovery", 0, 1),),
    ),
    Template(
        "ropo",
        True,
        (
            Step(_D, "add_to_cart", "visit", ("cart",), value="basket"),
            Step(CH["store"], "purchase", "days", ("order",), conversion=True, value="basket"),
        ),
    ),
    Template(
        "showrooming",
        False,
        (
            Step(CH["store"], "store_visit", "same"),
            Step(_D, "purchase", "hours", ("order",), conversion=True, value="basket"),
        ),
    ),
    Template(
        "failure_then_call",
        True,
        (
            Step(_D, "add_to_cart", "visit", ("cart",), value="basket"),
            Step(_D, "payment_failed", "visit", ("cart",)),
            Step(CH["call_centre"], "call", "short"),
            Step(
                CH["call_centre"],
                "purchase",
                "same",
                ("cart", "order"),
                conversion=True,
                value="basket",
            ),
        ),
        # the customer calls after the failure, and the call centre completes the cart
        breaks=(("contact_after_failure", 1, 2), ("cart_recovery", 1, 3)),
    ),
    Template(
        "form_reentered",
        True,
        (
            Step(_D, "form_submitted", "visit"),
            Step(CH["store"], "form_submitted", "days"),
        ),
        breaks=(("information_reentered", 0, 1),),
    ),
    Template(
        "signup",
        False,
        (
            Step(_D, "signup", "same"),
            Step(CH["email"], "welcome", "hours", outbound=True, followup="welcome_after_signup"),
        ),
    ),
    Template(
        "complaint",
        False,
        (
            Step(CH["call_centre"], "complaint", "same"),
            Step(
                CH["email"],
                "complaint_answer",
                "hours",
                outbound=True,
                followup="answer_to_complaint",
            ),
        ),
    ),
)
TEMPLATE_NAMES = tuple(t.name for t in TEMPLATES)
TPL = {name: i for i, name in enumerate(TEMPLATE_NAMES)}

#: Follow-ups the brand promises: the template step that answers the trigger (the step
#: before it) within the promised time (the brand's service level, stated in its story: a
#: welcome message within two days of a signup, an answer within a day of a complaint).
FOLLOWUPS = {"welcome_after_signup": "2D", "answer_to_complaint": "24h"}
FOLLOWUP_PROMISE_US = {
    "welcome_after_signup": 2 * 86_400 * 10**6,
    "answer_to_complaint": 86_400 * 10**6,
}
FOLLOWUP_LATE_GAP = {"welcome_after_signup": "late_2d", "answer_to_complaint": "late_day"}
#: Probabilities that a follow-up is on time, late, or missing (bounded pauses; with
#: continuous pauses the answer comes after a log-normal delay, :data:`ANSWER_DELAY`, or not).
FOLLOWUP_STATUS = (0.82, 0.08, 0.10)
#: Continuous pauses: (median seconds, sigma) of the time to answer each follow-up.
ANSWER_DELAY = {"welcome_after_signup": (8 * 3600, 1.5), "answer_to_complaint": (8 * 3600, 1.0)}

# Template mix per segment (rows: SEGMENTS); unspecified templates get 0.
_MIX = {
    "web_autonomous": {
        "browse": 0.26, "abandoned_cart": 0.12, "web_purchase": 0.30, "click_and_collect": 0.05,
        "quote_lost": 0.02, "failure_then_call": 0.03, "signup": 0.05, "complaint": 0.02,
        "showrooming": 0.03, "ropo": 0.02, "cart_recovery": 0.04, "reserve_and_collect": 0.02,
        "quote_web_to_store": 0.02, "form_reentered": 0.02,
    },
    "store_relational": {
        "browse": 0.10, "store_purchase": 0.55, "quote_in_store": 0.12,
        "quote_store_to_web": 0.02, "showrooming": 0.02, "form_reentered": 0.02,
        "complaint": 0.04, "signup": 0.01, "ropo": 0.04, "reserve_and_collect": 0.02,
        "quote_web_to_store": 0.02, "click_and_collect": 0.01, "abandoned_cart": 0.01,
        "quote_lost_in_store": 0.02,
    },
    "multichannel": {
        "browse": 0.10, "abandoned_cart": 0.06, "web_purchase": 0.10, "store_purchase": 0.08,
        "click_and_collect": 0.12, "reserve_and_collect": 0.06, "quote_web_to_store": 0.07,
        "quote_store_to_web": 0.04, "quote_lost": 0.03, "cart_recovery": 0.06, "ropo": 0.08,
        "showrooming": 0.06, "failure_then_call": 0.03, "form_reentered": 0.03, "signup": 0.02,
        "complaint": 0.02, "call_purchase": 0.02, "quote_in_store": 0.02,
    },
    "assisted": {
        "call_purchase": 0.45, "browse": 0.10, "cart_recovery": 0.08, "failure_then_call": 0.06,
        "complaint": 0.10, "store_purchase": 0.06, "abandoned_cart": 0.03, "web_purchase": 0.03,
        "signup": 0.02, "form_reentered": 0.02, "quote_in_store": 0.05,
    },
}  # fmt: skip


def _normalized(rows: dict[str, dict[str, float]], names: tuple[str, ...]) -> np.ndarray:
    out = np.array([[rows[s].get(n, 0.0) for n in names] for s in SEGMENTS])
    return out / out.sum(axis=1, keepdims=True)


TEMPLATE_MIX = _normalized(_MIX, TEMPLATE_NAMES)

#: Probability that an episode starts with a campaign click, and which channel it is on.
OPENER_P = np.array([0.45, 0.40, 0.55, 0.25])
OPENER_CHANNELS = np.array([CH["email"], CH["sms"], CH["social"]])
OPENER_MIX = np.array(
    [
        [0.45, 0.15, 0.40],
        [0.55, 0.35, 0.10],
        [0.45, 0.25, 0.30],
        [0.60, 0.30, 0.10],
    ]
)
OPENER_EVENT = {CH["email"]: "email_click", CH["sms"]: "sms_click", CH["social"]: "ad_click"}

#: Browsing steps: on the episode's digital channel, in store, on chat, or by phone.
BROWSE_CHANNELS = np.array([DIGITAL, CH["store"], CH["chat"], CH["call_centre"]])
BROWSE_MIX = np.array(
    [
        [0.97, 0.01, 0.02, 0.00],
        [0.15, 0.85, 0.00, 0.00],
        [0.70, 0.15, 0.10, 0.05],
        [0.15, 0.05, 0.35, 0.45],
    ]
)
BROWSE_EVENT = {
    CH["web"]: "product_view",
    CH["app"]: "product_view",
    CH["store"]: "store_visit",
    CH["chat"]: "chat_message",
    CH["call_centre"]: "call",
}
#: Mean number of browsing steps per segment (before scaling to the requested activity).
BROWSE_MEAN = np.array([6.0, 2.0, 5.0, 3.0])
#: Probability that the next browsing step stays in the same visit.
SAME_VISIT_P = 0.75
#: Share of digital episodes on the app rather than the web.
APP_SHARE = np.array([0.45, 0.15, 0.35, 0.15])
#: Log-normal basket value parameters per segment (mu, sigma) in EUR.
BASKET = np.array([[3.9, 0.7], [4.2, 0.6], [4.4, 0.7], [4.0, 0.6]])
QUOTE = (7.0, 0.5)
#: Share of the customers who join during the period.
#: Beta distribution of a customer's probability of dropping out after a converting episode.
DROPOUT_BETA = (0.7, 4.0)
JOIN_SHARE = 0.20


def store_count(n_customers: int) -> int:
    """Number of stores of a world of ``n_customers``: one per 2,000 customers, between 3 and
    20 (every store has its own price series and daily stock, so their number is capped)."""
    return int(np.clip(n_customers // 2000, 3, 20))


#: Customers' home stores follow a Zipf law of this exponent over the store ranks 1, 2, 3...,
#: folded onto the stores (rank r is store r mod n): a few stores draw most customers.
HOME_STORE_EXPONENT = 1.6


def home_store_shares(n_stores: int) -> np.ndarray:
    """Share of the customers whose home store is each store (``"S01"`` first).

    Ranks follow ``P(r) = r ** -s / zeta(s)`` (:data:`HOME_STORE_EXPONENT`) and rank ``r``
    shops at store ``r mod n``, so store ``k`` (0-based) gathers ``sum_j (k + j n) ** -s``:
    ``n ** -s * zeta(s, k / n)`` for ``k >= 1`` and ``n ** -s * zeta(s, 1)`` for ``k = 0``
    (Hurwitz zeta). Drawn by inverting this distribution with one uniform per customer, the
    home stores are the same on every numpy version (its Zipf sampler changed in 2.1).

    Examples
    --------
    >>> shares = home_store_shares(3)
    >>> [round(float(x), 2) for x in shares], int(np.argmax(shares))
    ([0.17, 0.57, 0.26], 1)
    """
    from scipy.special import zeta

    q = np.arange(n_stores, dtype=np.float64) / n_stores
    q[0] = 1.0
    w = np.asarray(zeta(HOME_STORE_EXPONENT, q), dtype=np.float64)
    return w / w.sum()


def store_labels(n_stores: int) -> np.ndarray:
    """Store names ``"S01"``, ``"S02"``... (sorted, as category labels)."""
    width = max(2, len(str(n_stores)))
    out = np.empty(n_stores, dtype=object)
    out[:] = [f"S{i:0{width}d}" for i in range(1, n_stores + 1)]
    return out


def event_labels() -> tuple[str, ...]:
    """Every event name the generator emits, sorted (category order)."""
    names = set(OPENER_EVENT.values()) | set(BROWSE_EVENT.values())
    for t in TEMPLATES:
        names.update(s.event for s in t.steps)
    return tuple(sorted(names))


def step_arrays() -> dict[str, np.ndarray]:
    """The templates as arrays (template x step): channel, event code, gap kind, flags..."""
    n = len(TEMPLATES)
    m = max(len(t.steps) for t in TEMPLATES)
    events = {e: i for i, e in enumerate(event_labels())}
    out = {
        "len": np.array([len(t.steps) for t in TEMPLATES]),
        "browse": np.array([t.browse for t in TEMPLATES]),
        "channel": np.zeros((n, m), dtype=np.int64),
        "event": np.zeros((n, m), dtype=np.int64),
        "gap": np.zeros((n, m), dtype=np.int64),
        "conversion": np.zeros((n, m), dtype=bool),
        "outbound": np.zeros((n, m), dtype=bool),
        "value": np.zeros((n, m), dtype=np.int64),
        "followup": np.zeros((n, m), dtype=np.int64),
        "refs": np.zeros((n, m, len(REFS)), dtype=bool),
        "has_followup": np.zeros(n, dtype=bool),
    }
    followups = list(FOLLOWUPS)
    for i, t in enumerate(TEMPLATES):
        for q, s in enumerate(t.steps):
            out["channel"][i, q] = s.channel
            out["event"][i, q] = events[s.event]
            out["gap"][i, q] = GAP[s.gap]
            out["conversion"][i, q] = s.conversion
            out["outbound"][i, q] = s.outbound
            out["value"][i, q] = {None: 0, "basket": 1, "quote": 2}[s.value]
            out["followup"][i, q] = 0 if s.followup is None else followups.index(s.followup) + 1
            for r in s.refs:
                out["refs"][i, q, REFS.index(r)] = True
        out["has_followup"][i] = any(s.followup for s in t.steps)
    return out
