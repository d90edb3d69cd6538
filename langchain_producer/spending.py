"""Kept so that imports from ``langchain_producer.spending`` go on working: the spending limits
live in :mod:`langchain_producer.safety.spending`."""

from langchain_producer.safety.spending import NAMESPACE, Spending, SpendingGuard, SpentCall

__all__ = ["NAMESPACE", "Spending", "SpendingGuard", "SpentCall"]
