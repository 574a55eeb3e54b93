"""What a benchmark case is: one tool at one size, as setup code and measured code."""

from __future__ import annotations

from dataclasses import dataclass

OMNIJOURNEY = "omnijourney"


@dataclass(frozen=True)
class Case:
    """One measured run, executed in a fresh interpreter: ``setup``, then ``measure`` (timed).

    Both code strings see ``n`` (``size`` scaled by ``--quick``/``--scale``) and ``seed``.
    ``report`` is an expression evaluated after the timed section, giving a dict of extra
    figures (bytes per row, modules imported...). A ``check`` entry in it is compared across
    the tools of one case and size: equal values mean the tools produced the same answer.
    ``requires`` lists the modules the case needs; when one is missing the case is reported
    as skipped with ``pip install <pip>``.
    """

    case: str
    tool: str
    size: int | None
    unit: str
    setup: str
    measure: str
    report: str = ""
    requires: tuple[str, ...] = ()
    pip: str = ""
    repeat: int | None = None

    @property
    def is_peer(self) -> bool:
        return self.tool != OMNIJOURNEY
