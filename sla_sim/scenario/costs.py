"""What a plan costs: the optional ``costs`` section of a scenario.

All amounts are in the scenario's ``currency`` (the currency of its deal values and revenue).
Every field has a default from a published benchmark or a stated assumption
(:mod:`sla_sim.scenario.defaults_data`, "cost benchmarks"); the defaults are USD figures, so a
scenario in another currency should set its own. A team or channel not listed in ``costs`` is
costed at the defaults; naming a team or channel the scenario does not have is an error.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from sla_sim._base import Spec
from sla_sim.scenario import defaults_data as bench

__all__ = ["AECostSpec", "ChannelCostSpec", "CostsSpec", "TeamCostSpec", "channel_cost_per_lead"]


def channel_cost_per_lead(name: str) -> float:
    """Default cost per lead of a channel named ``name`` (by its kind: inbound, paid, events,
    outbound, partner; any other name gets the inbound figure), in USD."""
    entry = bench.CHANNEL_COST_PER_LEAD_USD.get(name)
    return entry[0] if entry else bench.OTHER_CHANNEL_COST_PER_LEAD_USD


class TeamCostSpec(Spec):
    """What one SDR team costs: reps on the payroll and reps who join."""

    name: str = Field(min_length=1, description="Name of the team (one of teams[].name).")
    rep_cost_per_month_amount: float = Field(
        default_factory=bench.sdr_loaded_cost_per_month,
        ge=0,
        description="Loaded cost of one rep for one month on the team, in currency (salary,"
        " variable pay, benefits, employer taxes, tools), counted for every month a rep is on"
        " the payroll, ramping or not. Default about USD 9,250: SDR OTE USD 76k (Bridge Group"
        " SDR report 2021) / 0.704 wage share (BLS ECEC Dec 2023) / 12 + USD 250 tools"
        " (assumption).",
    )
    hire_cost_amount: float = Field(
        default_factory=lambda: bench.SHRM_COST_PER_HIRE_USD,
        ge=0,
        description="Recruiting cost of one hire or backfill, in currency, on its join date."
        " Default USD 4,700: SHRM Human Capital Benchmarking 2022 average cost per hire.",
    )
    ramp_cost_amount: float = Field(
        default_factory=lambda: bench.RAMP_COST_PER_HIRE_USD,
        ge=0,
        description="Onboarding and training cost of one hire or backfill beyond the salary"
        " paid while it ramps, in currency, on its join date. Default USD 3,000: assumption.",
    )


class AECostSpec(Spec):
    """What the account executives cost: a loaded monthly cost each plus commission."""

    rep_cost_per_month_amount: float = Field(
        default_factory=bench.ae_loaded_cost_per_month,
        ge=0,
        description="Loaded cost of one AE for one month without commission, in currency."
        " Default about USD 9,130: the base half of an AE OTE of USD 150k (Bridge Group SaaS AE"
        " report 2020) / 0.704 wage share (BLS ECEC Dec 2023) / 12 + USD 250 tools"
        " (assumption).",
    )
    commission_share: float = Field(
        default_factory=bench.ae_commission_share,
        ge=0,
        le=1,
        description="Commission as a share of booked revenue, counted on the close date."
        " Default 0.10: variable half of OTE / quota of about 5x OTE (Bridge Group SaaS AE"
        " report 2020).",
    )


class ChannelCostSpec(Spec):
    """What one lead channel costs: a price per lead plus a fixed monthly spend."""

    name: str = Field(min_length=1, description="Name of the channel (one of channels[].name).")
    cost_per_lead_amount: float = Field(
        default=0.0,
        ge=0,
        description="Cost of one new lead, in currency, on its creation date. Default by"
        " channel name: inbound USD 135 (HubSpot State of Inbound 2012), paid USD 116"
        " (WordStream B2B search benchmarks 2019), events USD 400, outbound USD 25, partner"
        " USD 150 and any other name USD 135 (assumptions).",
    )
    fixed_per_month_amount: float = Field(
        default=0.0,
        ge=0,
        description="Fixed spend of the channel per month, in currency (agency retainer,"
        " platform fees, event sponsorships). Default 0.",
    )

    @model_validator(mode="before")
    @classmethod
    def _default_by_name(cls, data: Any) -> Any:
        """The cost per lead, when not given, is the benchmark of the channel's kind."""
        if isinstance(data, dict) and "cost_per_lead_amount" not in data and isinstance(
                data.get("name"), str):  # fmt: skip
            data = {**data, "cost_per_lead_amount": channel_cost_per_lead(data["name"])}
        return data


class CostsSpec(Spec):
    """Costs of the plan, in the scenario currency; unlisted teams and channels get defaults."""

    teams: list[TeamCostSpec] = Field(
        default_factory=list, description="Cost of each SDR team, by name."
    )
    ae: AECostSpec = Field(default_factory=AECostSpec)
    channels: list[ChannelCostSpec] = Field(
        default_factory=list, description="Cost of each lead channel, by name."
    )

    def team(self, name: str) -> TeamCostSpec:
        """The costs of team ``name``: as listed, or the defaults."""
        return next((t for t in self.teams if t.name == name), None) or TeamCostSpec(name=name)

    def channel(self, name: str) -> ChannelCostSpec:
        """The costs of channel ``name``: as listed, or the defaults for its kind."""
        return (next((c for c in self.channels if c.name == name), None)
                or ChannelCostSpec(name=name))  # fmt: skip
