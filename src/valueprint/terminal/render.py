"""Rich rendering of profiles, personas and tokens."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace

BAR_HALF = 10


def bar(mean: float) -> Text:
    """A centred bar: left of the middle for the low pole, right for the high pole."""
    cells = round(abs(mean) * BAR_HALF)
    left = " " * (BAR_HALF - cells) + "█" * cells if mean < 0 else " " * BAR_HALF
    right = "█" * cells + " " * (BAR_HALF - cells) if mean > 0 else " " * BAR_HALF
    return Text.assemble((left, "magenta"), ("│", "dim"), (right, "cyan"))


def confidence(sd: float, prior_sd: float = 0.5) -> str:
    """Share of the prior uncertainty removed, as a word and a percentage."""
    share = max(0.0, 1.0 - sd / prior_sd)
    word = "high" if share >= 0.5 else "medium" if share >= 0.3 else "low"
    return f"{word} ({share:.0%})"


def profile_table(profile: ValueProfile, space: ValueSpace) -> Table:
    table = Table(title="Your value profile", show_lines=False, expand=False)
    table.add_column("group", style="dim")
    table.add_column("dimension")
    table.add_column("low pole ◀  ▶ high pole", no_wrap=True)
    table.add_column("score", justify="right")
    table.add_column("± SD", justify="right")
    table.add_column("confidence")
    labels = {g.id: g.label for g in space.groups}
    for dim in space.dimensions:
        score = profile.scores[dim.id]
        table.add_row(
            labels[dim.group], dim.label, bar(score.mean), f"{score.mean:+.2f}", f"{score.sd:.2f}", confidence(score.sd)
        )
    return table


def political_point(profile: ValueProfile) -> str:
    economic, social = profile.scores["economic"].mean, profile.scores["social"].mean
    horizontal = "right" if economic > 0.15 else "left" if economic < -0.15 else "centre"
    vertical = "authoritarian" if social > 0.15 else "libertarian" if social < -0.15 else "centre"
    return f"economic {economic:+.2f} ({horizontal}), social {social:+.2f} ({vertical})"


def token_panel(token: str, handle: str, expires: str) -> Panel:
    body = Group(
        Text.assemble(("handle  ", "bold"), (handle, "bold green")),
        Text.assemble(("expires ", "bold"), expires),
        Text("token", style="bold"),
        Text(token, overflow="fold"),
    )
    return Panel(body, title="Your value token", subtitle="share only with AI systems you trust")
