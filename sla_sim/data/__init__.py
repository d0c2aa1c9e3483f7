"""Public datasets shipped with sla_sim; see SOURCE.md and LICENSE.md in each folder."""
