"""The validated scenario: every parameter of the funnel, with units, defaults and sources.

A :class:`Scenario` is a tree of strict pydantic models. Unknown keys are rejected, every number
has a range, and cross-field rules (a routing rule naming a missing team, probabilities that
do not sum, a calendar with no working hours) are checked in one place. All problems found are
reported together as one :class:`~sla_sim.errors.ScenarioError` listing field path, rule and value.

Units are in the field names (``_hours``, ``_days``, ``_minutes``, ``_points``, ``per_month``)
or, for distributions, in the name of the field that holds them. Money is in ``currency``.
Sources for defaults are given in each field's description and collected in docs/model.md
(Defaults and their sources).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sla_sim._base import Spec
from sla_sim.calendar import CalendarSpec
from sla_sim.errors import ScenarioError
from sla_sim.scenario.costs import CostsSpec
from sla_sim.scenario.distributions import Distribution, Exponential, Gamma, LogNormal

__all__ = [
    "AESpec",
    "ArrivalProfile",
    "Burst",
    "ChannelSpec",
    "ContactSpec",
    "FollowUpSpec",
    "HandoffSpec",
    "HireSpec",
    "HorizonSpec",
    "NurtureSpec",
    "RoutingSpec",
    "SLASpec",
    "Scenario",
    "TeamSpec",
]

# Relative MQL volume by weekday (Mon..Sun) and calendar month (Jan..Dec), mean 1.0, derived
# from the Olist marketing-funnel sample (sla_sim/data/olist) by sla_sim.scenario.defaults_data;
# tests/test_defaults_data.py checks these literals against the shipped data.
OLIST_WEEKDAY_WEIGHTS = [1.30, 1.27, 1.30, 1.18, 1.02, 0.460, 0.463]
OLIST_DAILY_VOLUME_CV = 0.242
# Success of a telemarketing contact by attempt number, relative to the first attempt: a
# geometric factor fitted to UCI Bank Marketing (Moro et al. 2014), sla_sim.scenario.defaults_data.
UCI_ATTEMPT_DECAY = 0.920

# Hour-of-day profile of inbound B2B lead creation (local time, 0..23, mean 1.0). No dataset
# shipped here has timestamps of lead creation, so this is a stated assumption: most form fills
# happen in working hours with a tail into the evening.
DEFAULT_HOUR_WEIGHTS = [
    0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.6, 1.0, 1.6, 1.9, 2.0, 1.9,
    1.7, 1.8, 1.9, 1.8, 1.6, 1.3, 1.0, 0.8, 0.6, 0.5, 0.35, 0.25,
]  # fmt: skip


class Burst(Spec):
    """A campaign burst: a channel's arrival rate multiplied for a while."""

    channel: str = Field(description="Name of the channel the burst applies to.")
    start_day: float = Field(ge=0, description="Start, in days since the horizon origin.")
    duration_days: float = Field(gt=0, description="Length of the burst in days.")
    multiplier: float = Field(
        ge=0, le=1000, description="Rate multiplier during the burst (1 = none), at most 1,000."
    )


class ArrivalProfile(Spec):
    """Shape of lead arrivals over time; each list is normalised to mean 1 when used."""

    weekday_weights: list[float] = Field(
        default_factory=lambda: list(OLIST_WEEKDAY_WEIGHTS),
        min_length=7,
        max_length=7,
        description="Relative volume Monday..Sunday. Default: Olist MQL sample by weekday.",
    )
    hour_weights: list[float] = Field(
        default_factory=lambda: list(DEFAULT_HOUR_WEIGHTS),
        min_length=24,
        max_length=24,
        description="Relative volume by local hour 0..23. Default: assumption (working-hours"
        " peak); no shipped dataset has creation timestamps.",
    )
    month_weights: list[float] = Field(
        default_factory=lambda: [1.0] * 12,
        min_length=12,
        max_length=12,
        description="Relative volume January..December (seasonality). Default: flat (the"
        " one Olist year mixes growth with seasonality, so it cannot set this).",
    )
    daily_volume_cv: float = Field(
        default_factory=lambda: OLIST_DAILY_VOLUME_CV,
        ge=0,
        le=3,
        description="Over-dispersion: coefficient of variation of a gamma day multiplier on"
        " the Poisson rate (0 = pure Poisson). Default: fitted to Olist daily MQL counts.",
    )
    bursts: list[Burst] = Field(
        default_factory=list, max_length=500, description="Campaign bursts (at most 500)."
    )

    @field_validator("weekday_weights", "hour_weights", "month_weights")
    @classmethod
    def _non_negative_and_positive_sum(cls, value: list[float]) -> list[float]:
        if any(w < 0 for w in value):
            raise ValueError("weights must all be >= 0")
        if sum(value) <= 0:
            raise ValueError("weights must not all be 0")
        return value


class ChannelSpec(Spec):
    """A lead source with its volume, score distribution and sales economics."""

    name: str = Field(min_length=1, description="Channel name, unique in the scenario.")
    leads_per_month: float = Field(ge=0, description="Mean new leads per month (30.44 days).")
    segment_mix: dict[str, float] = Field(
        default_factory=lambda: {"mid_market": 1.0},
        description="Share of the channel's leads in each segment (by_segment routing); the"
        " shares must sum to 1.",
    )
    score_alpha: float = Field(gt=0, description="Lead score is 100 x Beta(alpha, beta) points.")
    score_beta: float = Field(gt=0, description="Second Beta parameter of the lead score.")
    sql_rate: float = Field(
        gt=0, lt=1, description="P(reached MQL qualifies as SQL) at the reference score."
    )
    win_rate: float = Field(gt=0, le=1, description="P(opportunity is won).")
    cycle_days: Distribution = Field(description="Sales cycle, opportunity open to close, days.")
    deal_value: Distribution = Field(description="Value of a won deal, in the scenario currency.")


class NurtureSpec(Spec):
    """Drip nurturing of leads below the MQL threshold (and of recycled MQLs)."""

    touch_interval_days: float = Field(default=7.0, gt=0, description="Days between touches.")
    engage_probability: float = Field(
        default=0.025, ge=0, le=1, description="P(a touch engages the lead and lifts its score)."
    )
    score_lift_points: float = Field(
        default=8.0, gt=0, description="Score points added by an engaging touch."
    )
    max_days: float = Field(
        default=90.0, ge=0, description="Days in nurture before the lead expires (0: no"
        " nurture, a lead below the threshold expires at once).",
    )
    recycle_score_points: float = Field(
        default=15.0,
        gt=0,
        description="A recycled MQL re-enters nurture this many points below the threshold.",
    )


class HandoffSpec(Spec):
    """How MQLs are turned over to sales: in real time or in batches, after an ops delay."""

    mode: Literal["realtime", "batch"] = Field(
        default="realtime", description="Route as soon as eligible, or at batch instants."
    )
    ops_delay_hours: Distribution = Field(
        default_factory=lambda: Exponential(mean=0.25),
        description="Hours of enrichment/sync between MQL and eligibility for routing.",
    )
    batch_every_hours: float | None = Field(
        default=None, ge=1 / 60, description="Batch cadence in clock hours (mode=batch), at"
        " least one minute (1/60): the model lists every batch instant of the horizon."
    )
    batch_local_hours: list[float] = Field(
        default_factory=list, max_length=1440,
        description="Local clock hours of daily batches on marketing working days (mode=batch),"
        " at most 1,440.",
    )

    @field_validator("batch_local_hours")
    @classmethod
    def _hours_in_day(cls, value: list[float]) -> list[float]:
        if any(not 0 <= h < 24 for h in value):
            raise ValueError("batch hours must be in [0, 24)")
        return sorted(value)

    @model_validator(mode="after")
    def _one_batch_rule(self) -> HandoffSpec:
        if self.mode == "batch" and (self.batch_every_hours is None) == (
            not self.batch_local_hours
        ):
            raise ValueError(
                "mode 'batch' needs exactly one of batch_every_hours or batch_local_hours"
                f" (got batch_every_hours={self.batch_every_hours},"
                f" batch_local_hours={self.batch_local_hours})"
            )
        return self


class HireSpec(Spec):
    """Reps who join a team on a date (staffing plan)."""

    start: dt.date = Field(description="First day on the team (local midnight, team calendar).")
    reps: int = Field(default=1, ge=1, le=500, description="Number of reps joining that day.")


class TeamSpec(Spec):
    """A team of SDRs sharing a calendar and a queue."""

    name: str = Field(min_length=1, description="Team name, unique in the scenario.")
    reps: int = Field(ge=1, le=500, description="Number of SDRs.")
    calendar: CalendarSpec = Field(default_factory=CalendarSpec)
    shrinkage: float = Field(
        default=0.35,
        ge=0,
        lt=1,
        description="Share of working hours not available for lead follow-up (meetings,"
        " training, admin). Default 0.35: contact-centre planning convention of 30-35%.",
    )
    max_active_leads: int = Field(
        default=80, ge=1, description="Leads one SDR works at once; more wait in the queue."
    )
    channels: list[str] = Field(default_factory=list, description="by_channel routing.")
    segments: list[str] = Field(default_factory=list, description="by_segment routing.")
    assignment: Literal["immediate", "pull"] = Field(
        default="immediate",
        description="immediate: a routed MQL takes a rep's slot at once and waits in that rep's"
        " private backlog (CRM round-robin assignment; the default, today's behaviour). pull:"
        " MQLs wait in one team queue and a free rep takes the next when it starts it (a"
        " shared queue: M/M/c).",
    )
    work_order: Literal["due_first", "new_first", "deadline_first"] = Field(
        default="due_first",
        description="Which due attempt a free rep starts: the earliest due (due_first, the"
        " default), first attempts before follow-ups (new_first), or the earliest SLA deadline"
        " (deadline_first: the first-touch deadline, then the attempts deadline). Never"
        " pre-emptive.",
    )
    reassign_after_business_hours: float | None = Field(
        default=None,
        gt=0,
        description="Take a lead back from its rep when its first attempt has not started this"
        " many business hours (team calendar) after assignment, and route it again. Default"
        " none: never (today's behaviour).",
    )
    max_reassignments: int = Field(
        default=1, ge=1, le=20, description="Reassignments of one MQL episode, at most."
    )
    hires: list[HireSpec] = Field(
        default_factory=list,
        max_length=1000,
        description="Staffing plan: reps who join on a date, on the team calendar, ramping up"
        " per ramp_by_tenure_month (at most 1,000 entries). Default none.",
    )
    ramp_by_tenure_month: list[Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=list,
        max_length=60,
        description="Share of full speed of a hire (or backfill) in its 1st, 2nd, ... calendar"
        " month on the team (attempts take 1/share as long); full speed after the list, e.g."
        " [0.25, 0.5, 0.75] for a three-month ramp. Default empty: no ramp (an assumption to"
        " replace with the team's own onboarding data).",
    )
    attrition_per_month: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="Probability that a rep leaves in a month (exponential time to leave;"
        " 0.03 a month is 1 - 0.97**12 = 31% a year). Default 0: no attrition (today's"
        " behaviour).",
    )
    backfill_delay_days: float | None = Field(
        default=None,
        ge=0,
        description="A leaver is replaced by a new rep this many days later (who ramps like a"
        " hire). Default none: not backfilled.",
    )
    pto_days_per_year: float = Field(
        default=0.0,
        ge=0,
        le=100,
        description="Days off per rep per year, drawn as whole absent working days. Default 0:"
        " average absence is left to shrinkage (today's behaviour); with PTO days set, lower"
        " shrinkage by the same share to avoid counting absence twice.",
    )
    rep_calendars: list[CalendarSpec] = Field(
        default_factory=list,
        max_length=500,
        description="One calendar per rep (follow-the-sun teams: own hours and time zone);"
        " empty: every rep on the team calendar. SLA clocks stay on the team calendar.",
    )
    overflow_team: str | None = Field(
        default=None,
        description="Team (e.g. a manager or a backup pool) that takes a reassigned lead when no"
        " other rep of this team has a free slot (event escalated). Default none: the lead"
        " goes back to this team's queue.",
    )


class RoutingSpec(Spec):
    """Which team gets an MQL, and which rep in it."""

    team_rule: Literal["single", "by_channel", "by_segment"] = Field(
        default="single", description="One team, or the team listing the lead's channel/segment."
    )
    rep_rule: Literal["round_robin", "least_loaded"] = Field(
        default="round_robin",
        description="Next rep with a free slot in turn, or the rep with fewest active leads.",
    )
    priority_by: Literal["none", "channel", "segment"] = Field(
        default="none", description="What priority_order lists (none: no priority classes)."
    )
    priority_order: list[str] = Field(
        default_factory=list,
        description="Channels or segments, highest priority first; unlisted ones come after."
        " Higher classes are served first in the team queue and among a rep's due attempts"
        " (non-pre-emptive). Default empty: one class.",
    )
    skip_unavailable: bool = Field(
        default=False,
        description="Round-robin and least-loaded pick among reps on shift and present now"
        " (others only when none of them has a free slot). Default false: today's behaviour.",
    )


class ContactSpec(Spec):
    """P(an attempt reaches the lead) = attempt factor x decay curve of hours since MQL."""

    p_initial: float = Field(
        default=0.5, gt=0, le=1, description="P(reach) for an attempt at 0 hours after MQL."
    )
    p_floor: float = Field(
        default=0.12, ge=0, le=1, description="Long-run P(reach) however late the attempt."
    )
    half_life_hours: float = Field(
        default=12.0,
        gt=0,
        description="Hours for the excess over the floor to halve (exponential shape) or the"
        " scale of the power law. Default 12 h gives about 2.4x between 0.5 h and 24 h, far"
        " gentler than the observational 7x-60x of lead-response studies (treated as bounds).",
    )
    shape: Literal["exponential", "power"] = Field(
        default="exponential",
        description="Decay curve: 2**(-age/half_life), or 1/(1 + age/half_life).",
    )
    attempt_decay: float = Field(
        default_factory=lambda: UCI_ATTEMPT_DECAY,
        gt=0,
        le=1,
        description="Multiplier per extra attempt (attempt k gets decay**(k-1)). Default:"
        " fitted to UCI Bank Marketing success by number of contacts.",
    )

    @model_validator(mode="after")
    def _floor_below_initial(self) -> ContactSpec:
        if self.p_floor > self.p_initial:
            raise ValueError("p_floor must be <= p_initial")
        return self


class FollowUpSpec(Spec):
    """The SDR cadence: attempts, their cost in rep time, and dispositions."""

    cadence_days: list[float] = Field(
        default_factory=lambda: [0.0, 1.0, 3.0, 6.0, 10.0],
        min_length=1,
        max_length=20,
        description="Days after the first attempt at which each attempt becomes due (first 0).",
    )
    attempt_minutes: Distribution = Field(
        default_factory=lambda: LogNormal(mean=8.0, cv=0.6),
        description="Rep minutes per attempt (research, call, voicemail, email, CRM log).",
    )
    contact: ContactSpec = Field(default_factory=ContactSpec)
    score_slope_per_10_points: float = Field(
        default=0.3,
        ge=0,
        le=3,
        description="Log-odds added to sql_rate per 10 score points above the reference.",
    )
    reference_score_points: float = Field(
        default=60.0, ge=0, le=100, description="Score (points) at which sql_rate applies."
    )
    disqualify_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="P(disqualified | reached, not SQL); the rest are recycled to nurture.",
    )

    @field_validator("cadence_days")
    @classmethod
    def _cadence_increasing(cls, value: list[float]) -> list[float]:
        if value[0] != 0:
            raise ValueError("the first attempt must be due at day 0")
        if any(b <= a for a, b in itertools.pairwise(value)):
            raise ValueError("cadence days must be strictly increasing")
        return value


class AESpec(Spec):
    """Account executives: selling hours per opportunity on the AE calendar, and a cap on the
    open opportunities each carries. An AE's capacity is hours: ``calendar`` business hours x
    ``selling_share``, spent ``selling_hours_per_opportunity`` at a time."""

    count: int = Field(default=8, ge=1, le=5000, description="Number of AEs.")
    max_open_opportunities: int = Field(
        default=80, ge=1, description="Open opportunities one AE carries at most (a pipeline"
        " cap); SQLs beyond wait."
    )
    selling_hours_per_opportunity: float = Field(
        default=6.0, ge=0, le=500, allow_inf_nan=False,
        description="AE selling hours one opportunity takes in total (discovery, demo,"
        " proposal, negotiation), worked from its opening on the AE calendar, one"
        " opportunity at a time per AE, stretched by 1 / selling_share; an SQL waits for a free"
        " AE. Default 6 h: AE productivity benchmarks (quota and attainment over ACV, win"
        " rate; docs/model.md). 0: no selling time, an opportunity opens as soon as a slot is"
        " free, at any hour (the slot cap alone).",
    )
    selling_share: float = Field(
        default=0.34, gt=0, le=1,
        description="Share of an AE's working hours spent selling on opportunities; the rest"
        " (prospecting, internal meetings, admin, training) is unavailable. Default 0.34:"
        " sales time studies (HubSpot 34%).",
    )
    calendar: CalendarSpec = Field(
        default_factory=CalendarSpec, description="The AE team's business hours: selling"
        " hours are spent on it, and the AE clause is measured in its hours."
    )

    @property
    def work_business_hours(self) -> float:
        """Business hours of the AE calendar one opportunity's selling hours take (0: none)."""
        return self.selling_hours_per_opportunity / self.selling_share


class SLASpec(Spec):
    """The agreement: commitments of marketing and of sales, per lead and per period."""

    mql_commitment_per_month: float = Field(
        default=1600.0, ge=0, description="MQLs marketing commits to deliver per month."
    )
    mql_commitment_basis: Literal["month", "day", "working_day"] = Field(
        default="day", description="How the monthly commitments (MQL volume and the revenue"
        " target) apply to each calendar month: 'day' scales it by the month's days / 30.44"
        " (leads arrive per day, so a flat commitment is not breached in short months by"
        " construction), 'working_day' by the"
        " marketing calendar's working days / its mean per month, 'month' applies it flat."
    )
    acceptance_rate_min: float = Field(
        default=0.2, ge=0, le=1, description="Minimum monthly share of dispositioned MQLs"
        " that sales accepts as SQL (marketing's quality commitment)."
    )
    handoff_within_hours: float = Field(
        default=1.0, gt=0, description="MQL to routed, clock hours."
    )
    first_touch_within_business_hours: float = Field(
        default=4.0, gt=0, description="First attempt within this many business hours."
    )
    first_touch_from: Literal["mql", "assignment"] = Field(
        default="mql", description="When the first-touch clock starts."
    )
    attempts_required: int = Field(default=3, ge=1, description="Attempts owed to each MQL.")
    attempts_within_days: float = Field(default=7.0, gt=0, description="...within clock days.")
    disposition_within_days: float = Field(
        default=14.0, gt=0, description="MQL to disposition, clock days."
    )
    lead_compliance_target: float = Field(
        default=0.85, gt=0, le=1, description="Share of MQLs that must meet each per-lead clause"
        " for the period to count as met."
    )
    revenue_target_per_month: float = Field(
        default=2_200_000.0, ge=0, description="Booked revenue target per month, in currency."
    )


class HorizonSpec(Spec):
    """What is simulated and what is measured."""

    measure_start: dt.date = Field(
        default=dt.date(2026, 1, 1), description="First day of the measured period."
    )
    measure_months: int = Field(default=3, ge=1, le=24, description="Months measured.")
    warmup_days: int = Field(
        default=90, ge=0, le=730, description="Days simulated before measuring (not reported)."
    )
    timezone: str = Field(default="America/New_York", description="Scenario time zone (IANA).")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time-zone name such as 'Europe/London'") from None
        return value


class Scenario(Spec):
    """One complete description of a funnel and the SLA written on it."""

    name: str = Field(default="scenario", description="Short name, used in results folders.")
    description: str = Field(default="", description="Free text shown in reports.")
    currency: str = Field(
        default="USD", min_length=3, max_length=3, description="ISO 4217 code of all money."
    )
    horizon: HorizonSpec = Field(default_factory=HorizonSpec)
    channels: list[ChannelSpec] = Field(min_length=1, max_length=200)
    arrivals: ArrivalProfile = Field(default_factory=ArrivalProfile)
    mql_threshold_points: float = Field(
        default=60.0, ge=0, le=100, description="Score at or above which a lead is an MQL."
    )
    nurture: NurtureSpec = Field(default_factory=NurtureSpec)
    handoff: HandoffSpec = Field(default_factory=HandoffSpec)
    marketing_calendar: CalendarSpec = Field(default_factory=CalendarSpec)
    routing: RoutingSpec = Field(default_factory=RoutingSpec)
    teams: list[TeamSpec] = Field(min_length=1, max_length=200)
    follow_up: FollowUpSpec = Field(default_factory=FollowUpSpec)
    ae: AESpec = Field(default_factory=AESpec)
    sla: SLASpec = Field(default_factory=SLASpec)
    costs: CostsSpec = Field(
        default_factory=CostsSpec,
        description="What the plan costs, in currency (see sla_sim.scenario.costs); optional:"
        " unlisted teams and channels are costed at published-benchmark defaults.",
    )
    engine: Literal["fast", "simpy"] = Field(
        default="fast",
        description="Event-loop engine: 'fast' (compiled; runs every work order and assignment,"
        " priority classes, reassignment, overflow teams, hires, ramp and attrition; falls back"
        " to SimPy, naming what it does not cover, for a scenario field it was not written"
        " for) or 'simpy' (the reference model). Both write the same event log, row for row.",
    )

    @model_validator(mode="after")
    def _cross_field_rules(self) -> Scenario:
        from sla_sim.scenario.rules import cross_field_issues

        problems = cross_field_issues(self)
        if problems:
            # pydantic wraps this ValueError; scenario_io.from_validation_error unwraps it
            raise ScenarioError(problems)
        return self

    # convenience accessors -------------------------------------------------------------
    def channel_names(self) -> list[str]:
        """Channel names in scenario order."""
        return [c.name for c in self.channels]

    def team_names(self) -> list[str]:
        """Team names in scenario order."""
        return [t.name for t in self.teams]


def default_channels() -> list[ChannelSpec]:
    """The five channels of the default mid-market scenario (about 6,000 leads a month)."""
    return [
        ChannelSpec(name="inbound", leads_per_month=2200, score_alpha=3.2, score_beta=3.4,
                    sql_rate=0.32, win_rate=0.27,
                    cycle_days=Gamma(mean=38, cv=0.6), deal_value=LogNormal(mean=24000, cv=0.9)),
        ChannelSpec(name="paid", leads_per_month=1600, score_alpha=2.6, score_beta=3.6,
                    sql_rate=0.24, win_rate=0.22,
                    cycle_days=Gamma(mean=42, cv=0.6), deal_value=LogNormal(mean=20000, cv=0.9)),
        ChannelSpec(name="events", leads_per_month=700, score_alpha=3.0, score_beta=3.2,
                    sql_rate=0.28, win_rate=0.25,
                    cycle_days=Gamma(mean=46, cv=0.6), deal_value=LogNormal(mean=30000, cv=0.9)),
        ChannelSpec(name="outbound", leads_per_month=1000, score_alpha=2.2, score_beta=3.8,
                    sql_rate=0.2, win_rate=0.18,
                    cycle_days=Gamma(mean=50, cv=0.6), deal_value=LogNormal(mean=32000, cv=1.0)),
        ChannelSpec(name="partner", leads_per_month=500, score_alpha=3.6, score_beta=3.0,
                    sql_rate=0.36, win_rate=0.32,
                    cycle_days=Gamma(mean=34, cv=0.6), deal_value=LogNormal(mean=28000, cv=0.9)),
    ]  # fmt: skip
