"""Built-in scenarios: a mid-market default, a fast SMB inbound funnel, a long-cycle enterprise one.

Figures that come from a shipped dataset say so; the rest are stated planning assumptions that
a user is expected to replace (``sla-sim init --preset NAME`` writes one out to edit).
"""

from __future__ import annotations

from collections.abc import Callable

from sla_sim.calendar import CalendarSpec
from sla_sim.errors import Issue, ScenarioError
from sla_sim.scenario.costs import ChannelCostSpec, CostsSpec
from sla_sim.scenario.distributions import Gamma, LogNormal
from sla_sim.scenario.schema import (
    AESpec,
    ChannelSpec,
    FollowUpSpec,
    HorizonSpec,
    RoutingSpec,
    Scenario,
    SLASpec,
    TeamSpec,
    default_channels,
)

__all__ = ["PRESETS", "preset", "preset_names"]


def mid_market() -> Scenario:
    """About 6,000 leads a month over five channels, ~25% MQLs, 10 SDRs and 44 AEs."""
    return Scenario(
        name="mid_market",
        description="Mid-market B2B: ~6,000 leads/month over five channels, ~1 in 4 an MQL,"
        " 10 SDRs on a New York business-hours calendar, 44 AEs at 6 selling hours an"
        " opportunity (about 2 deals and USD 55k an AE a month); one quarter measured after"
        " a 90-day warm-up.",
        channels=default_channels(),
        teams=[TeamSpec(name="sdr", reps=10)],
        # ~370 opportunities a month at 6 selling hours (the AESpec default) fill about 38 AEs
        # (8 h x 21.7 days x 0.34 selling share = 59 h an AE-month); 44 keep the AE wait short
        ae=AESpec(count=44, max_open_opportunities=80),
    )


def smb_inbound() -> Scenario:
    """A fast, high-volume SMB inbound funnel, its won curve calibrated to Olist 2018.

    Conversion and timing are re-derived from the shipped Olist marketing funnel
    (``sla_sim/data/olist``) with :func:`sla_sim.crm.calibrate.fit_won_curve` and
    :func:`~sla_sim.crm.calibrate.match_won_curve`: a log-normal mixture cure model of MQL ->
    won for the Jan-Mar 2018 MQL cohorts (P(ever won) = 0.146, time to win: mean 65.9 days,
    cv 3.03, i.e. a median near 21 days), then the channels' sql_rate and win_rate scaled by
    one shared factor (1.46; the export cannot separate qualification from winning) and the
    sales cycle set to the time to win less the simulated MQL-to-opportunity delay. The data
    gives 3.5% of MQLs won within 7 days and 11.9% within 90 days;
    ``tests/test_crm_presets.py`` holds this preset to both. Volumes, headcount, cadence and
    the SLA are planning assumptions (the Olist file is a sample of unknown size).
    """
    smb = {"smb": 1.0}
    cycle = LogNormal(mean=64.9, cv=3.08)  # days, opportunity open to close (see above)
    channels = [
        ChannelSpec(name="organic", leads_per_month=4000, segment_mix=smb, score_alpha=2.8,
                    score_beta=3.0, sql_rate=0.512, win_rate=0.512,
                    cycle_days=cycle, deal_value=LogNormal(mean=3000, cv=1.0)),
        ChannelSpec(name="paid", leads_per_month=3000, segment_mix=smb, score_alpha=2.4,
                    score_beta=3.2, sql_rate=0.410, win_rate=0.439,
                    cycle_days=cycle, deal_value=LogNormal(mean=2500, cv=1.0)),
        ChannelSpec(name="social", leads_per_month=1500, segment_mix=smb, score_alpha=2.0,
                    score_beta=3.4, sql_rate=0.322, win_rate=0.366,
                    cycle_days=cycle, deal_value=LogNormal(mean=2000, cv=1.0)),
    ]  # fmt: skip
    return Scenario(
        name="smb_inbound",
        description="SMB inbound: ~8,500 leads/month from web channels, minutes-level SLA,"
        " 14 SDRs in one team; won curve calibrated to the Olist Jan-Mar 2018 MQL cohorts"
        " (3.5% won within 7 days, 11.9% within 90; long-tailed cycles, median about 20"
        " days); 150-day warm-up.",
        channels=channels,
        teams=[TeamSpec(name="sdr", reps=14, max_active_leads=120)],
        follow_up=FollowUpSpec(
            cadence_days=[0, 1, 2, 4], attempt_minutes=LogNormal(mean=8, cv=0.6)
        ),
        # long-tailed cycles keep ~2,000 opportunities open: an SMB rep's pipeline of 300; a
        # transactional sale of a few thousand dollars takes about 1.5 AE selling hours
        # (a planning assumption), so ~710 opportunities a month fill about 18 AEs
        ae=AESpec(count=22, max_open_opportunities=300, selling_hours_per_opportunity=1.5),
        # the pipeline fills for about five months: with no warm-up, revenue / target by month is
        # 0.52, 1.03, 1.30, 1.34, 1.48, 1.50, then 1.45-1.61 (4 replications); 150 days cover
        # the cycle's 90th percentile (142 days), as the other presets' warm-ups cover theirs
        horizon=HorizonSpec(warmup_days=150),
        sla=SLASpec(
            mql_commitment_per_month=2200, first_touch_within_business_hours=1.0,
            attempts_required=3, attempts_within_days=4, disposition_within_days=7,
            revenue_target_per_month=600_000,
        ),
        # SMB deals of a few thousand dollars are bought with cheap leads: organic (SEO,
        # content) and social at assumed USD 15 and 30 a lead, paid search at WordStream's
        # all-industry average cost per lead (USD 54, Google Ads benchmarks 2023); teams and
        # AEs are costed at the defaults (sla_sim.scenario.costs)
        costs=CostsSpec(channels=[ChannelCostSpec(name="organic", cost_per_lead_amount=15),
                                  ChannelCostSpec(name="paid", cost_per_lead_amount=54),
                                  ChannelCostSpec(name="social", cost_per_lead_amount=30)]),
    )  # fmt: skip


def enterprise() -> Scenario:
    """Low volume, two regional teams routed by segment, long cycles and large deals."""
    london = CalendarSpec(timezone="Europe/London")
    channels = [
        ChannelSpec(name="inbound", leads_per_month=600,
                    segment_mix={"enterprise": 0.4, "strategic": 0.6},
                    score_alpha=3.0, score_beta=3.0, sql_rate=0.4, win_rate=0.22,
                    cycle_days=Gamma(mean=120, cv=0.5), deal_value=LogNormal(mean=120000, cv=1.0)),
        ChannelSpec(name="events", leads_per_month=300,
                    segment_mix={"enterprise": 0.5, "strategic": 0.5},
                    score_alpha=3.2, score_beta=2.8, sql_rate=0.45, win_rate=0.25,
                    cycle_days=Gamma(mean=140, cv=0.5), deal_value=LogNormal(mean=150000, cv=1.0)),
        ChannelSpec(name="partner", leads_per_month=200,
                    segment_mix={"enterprise": 0.3, "strategic": 0.7},
                    score_alpha=3.6, score_beta=2.6, sql_rate=0.5, win_rate=0.3,
                    cycle_days=Gamma(mean=110, cv=0.5), deal_value=LogNormal(mean=180000, cv=1.0)),
    ]  # fmt: skip
    return Scenario(
        name="enterprise",
        description="Enterprise: ~1,100 leads/month, two SDR teams (New York, London) routed by"
        " segment, 4-5 month sales cycles, six-figure deals; 240-day warm-up.",
        channels=channels,
        routing=RoutingSpec(team_rule="by_segment", rep_rule="least_loaded"),
        teams=[
            TeamSpec(name="ny", reps=3, segments=["enterprise"], max_active_leads=60),
            TeamSpec(name="london", reps=3, segments=["strategic"], calendar=london,
                     max_active_leads=60),
        ],
        follow_up=FollowUpSpec(cadence_days=[0, 1, 3, 6, 10, 15],
                               attempt_minutes=LogNormal(mean=20, cv=0.5)),
        # six-figure deals take about 24 AE selling hours (discovery, demos, proposal, security
        # review, negotiation: a planning assumption), so ~115 opportunities a month fill
        # about 46 AEs
        ae=AESpec(count=54, max_open_opportunities=25, selling_hours_per_opportunity=24.0),
        horizon=HorizonSpec(warmup_days=240),
        sla=SLASpec(
            mql_commitment_per_month=260, acceptance_rate_min=0.3,
            first_touch_within_business_hours=8.0, attempts_required=4,
            attempts_within_days=10, disposition_within_days=21,
            revenue_target_per_month=1_200_000,
        ),
    )  # fmt: skip


PRESETS: dict[str, Callable[[], Scenario]] = {
    "default": mid_market,
    "mid_market": mid_market,
    "smb_inbound": smb_inbound,
    "enterprise": enterprise,
}


def preset_names() -> list[str]:
    """Names accepted by :func:`preset` (``default`` is ``mid_market``)."""
    return list(PRESETS)


def preset(name: str = "default") -> Scenario:
    """A fresh copy of a built-in scenario."""
    try:
        return PRESETS[name]()
    except KeyError:
        raise ScenarioError(
            [Issue("preset", f"must be one of {', '.join(PRESETS)}", name)]
        ) from None
