"""The admin dashboard: the statistics as JSON (`/v1/admin/stats`) and as a page that updates live.

`/admin` renders the page once; its body polls `/admin/live` every 5 seconds through
HTMX and swaps in the fresh partial. Every route is for signed-in admins only (403 for
other participants, 401 when not signed in). The rules behind each number are in
`valueprint.accounts.stats`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from valueprint.accounts.stats import DashboardStats, DropOffStep, dashboard_stats
from valueprint.personalize.schemas import StrategyPicks
from valueprint.services import Services
from valueprint.web.deps import Admin, ServicesDep
from valueprint.web.templating import render

router = APIRouter()

CHART_WIDTH, CHART_HEIGHT = 600.0, 160.0
SHOWN_IDS = 20


def current_stats(s: Services) -> DashboardStats:
    return dashboard_stats(s.accounts, s.settings.k_anonymity)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def drop_off_chart(steps: list[DropOffStep]) -> dict[str, Any]:
    """Bars for an inline SVG (attributes only: the pages' CSP allows no inline styles)."""
    tallest = max((step.stopped for step in steps), default=0) or 1
    slot = CHART_WIDTH / max(len(steps), 1)
    bars = [
        {
            "x": round(i * slot + slot * 0.1, 2),
            "width": round(slot * 0.8, 2),
            "height": round(step.stopped / tallest * CHART_HEIGHT, 2),
            "y": round(CHART_HEIGHT - step.stopped / tallest * CHART_HEIGHT, 2),
            "step": step,
        }
        for i, step in enumerate(steps)
    ]
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "bars": bars, "tallest": tallest}


def page_context(stats: DashboardStats, picks: list[StrategyPicks] | None = None) -> dict[str, Any]:
    return {
        "stats": stats,
        "picks": picks or [],
        "median_completion": duration(stats.median_completion_s),
        "chart": drop_off_chart(stats.drop_off.by_position),
        "shown_ids": SHOWN_IDS,
        "flag_rules": flag_rules(stats),
    }


def flag_rules(stats: DashboardStats) -> dict[str, str]:
    t = stats.thresholds
    return {
        "straight_lining": f"at least {t.straight_min_answers} Likert answers, "
        f"{round(t.straight_share * 100)}% or more of them the same value",
        "speeding": f"at least {t.speeding_min_answers} answers, median under {t.speeding_median_s:g} s each",
        "contradictions": f"at least {t.contradiction_min_pairs} forward and reverse-keyed item pairs "
        "on one dimension both agreed or both disagreed with",
    }


@router.get("/v1/admin/stats", response_model=DashboardStats, tags=["admin"])
def stats_json(s: ServicesDep, _: Admin) -> DashboardStats:
    """Participation, completion, drop-off, coverage by demographic group (groups under k hidden),
    flagged answer patterns (pseudonymous ids only) and app reads."""
    return current_stats(s)


@router.get("/admin", response_class=HTMLResponse, include_in_schema=False)
def dashboard(request: Request, s: ServicesDep, _: Admin) -> Response:
    context = page_context(current_stats(s), s.picks.stats()) | {"annotation": s.crowd.admin_figures()}
    return render(request, "admin.html", context)


@router.get("/admin/live", response_class=HTMLResponse, include_in_schema=False)
def dashboard_live(request: Request, s: ServicesDep, _: Admin) -> Response:
    """The partial the dashboard polls every 5 seconds."""
    return render(request, "admin_live.html", page_context(current_stats(s), s.picks.stats()))


@router.get("/v1/admin/annotation", tags=["admin"])
def annotation_json(s: ServicesDep, _: Admin) -> dict[str, Any]:
    """Annotation throughput, agreement over time, reviewer backlog, karma and gold-accuracy distributions,
    and annotators paused for being far below chance (pseudonymous ids)."""
    return s.crowd.admin_figures()


@router.get("/v1/admin/picks", tags=["admin"])
def picks_json(s: ServicesDep, _: Admin) -> list[StrategyPicks]:
    """Blind picks by people, per strategy: the personalised reply's share of decided picks with a
    Wilson 95% interval, and how many saw no difference."""
    return s.picks.stats()
