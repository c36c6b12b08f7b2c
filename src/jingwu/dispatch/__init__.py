"""Pure recommendation: which units may take an incident, and how they rank by road ETA."""

from jingwu.dispatch.eligibility import is_eligible
from jingwu.dispatch.recommend import EtaEntry, Recommendation, rank

__all__ = ["EtaEntry", "Recommendation", "is_eligible", "rank"]
