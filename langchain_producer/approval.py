"""Kept so that imports from ``langchain_producer.approval`` go on working: approval of paid calls
lives in :mod:`langchain_producer.safety.approval`."""

from langchain_producer.safety.approval import APPROVAL_REQUEST, ApprovalDecision, interrupt_on

__all__ = ["APPROVAL_REQUEST", "ApprovalDecision", "interrupt_on"]
