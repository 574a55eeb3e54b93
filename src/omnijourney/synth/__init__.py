"""The built-in synthetic omnichannel world: customers, records, touchpoints, prices, with truth.

``generate`` builds a seeded, reproducible world in which every quantity the library estimates
is known: who is the same person, which touchpoints form a journey, where journeys broke across
channels, which follow-ups were missed, which prices broke which rule.
"""

from omnijourney.synth._noise import DIFFICULTIES, Noise
from omnijourney.synth._templates import CHANNEL_ROLES, CHANNELS, CONVERSION_EVENTS, SEGMENTS
from omnijourney.synth._touchpoints import make_touchpoints
from omnijourney.synth._truth import ROLES, TouchpointTruth
from omnijourney.synth._world import World, generate

__all__ = [
    "CHANNELS",
    "CHANNEL_ROLES",
    "CONVERSION_EVENTS",
    "DIFFICULTIES",
    "ROLES",
    "SEGMENTS",
    "Noise",
    "TouchpointTruth",
    "World",
    "generate",
    "make_touchpoints",
]
