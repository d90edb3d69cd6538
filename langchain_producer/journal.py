"""Kept so that ``from langchain_producer.journal import TaskJournal`` goes on working: the
journal lives in :mod:`langchain_producer.safety.journal`."""

from langchain_producer.safety.journal import (
    DEFAULT_TTL_MINUTES,
    NAMESPACE,
    NO_THREAD,
    JournalEntry,
    PaidOptions,
    PaidRequest,
    TaskJournal,
)

__all__ = [
    "DEFAULT_TTL_MINUTES",
    "NAMESPACE",
    "NO_THREAD",
    "JournalEntry",
    "PaidOptions",
    "PaidRequest",
    "TaskJournal",
]
