"""The exceptions of langchain-producer: one hierarchy, each saying what happened and what to do.

Every message is safe to show to a model or a log: none ever contains the API key. Errors raised
after the service accepted paid work keep the ids needed to recover it (``task_id``, ``trace_id``).

- ``base``: ``ProducerError`` (the root: message, next step, ids, ``to_dict()``) and the one
  wording of what to do after acceptance (``follow_up_advice``).
- ``service``: what the service, the network or a task did wrong.
- ``paid``: paid calls refused on our side (journal, spending limits, approval, balance):
  nothing sent.

May import: nothing of this package but itself (every other module may import it).
"""

from langchain_producer.errors.base import ProducerError, ProducerValidationError, follow_up_advice
from langchain_producer.errors.paid import (
    ApprovalUnavailableError,
    BalanceTooLowError,
    BalanceUnknownError,
    JournalConflictError,
    JournalError,
    PaidCallRejectedError,
    SpendingLimitError,
    SpendingStoreError,
)
from langchain_producer.errors.service import (
    AuthenticationError,
    DownloadError,
    FailedTask,
    InsufficientBalanceError,
    ProducerAPIError,
    ProducerConnectionError,
    RateLimitError,
    SubmissionUncertainError,
    TaskFailedError,
    TaskLostError,
    TaskNotFoundError,
)

# Shown (and pickled) under the public path, whichever file defines them.
for _error in (
    ApprovalUnavailableError,
    AuthenticationError,
    BalanceTooLowError,
    BalanceUnknownError,
    DownloadError,
    InsufficientBalanceError,
    JournalConflictError,
    JournalError,
    PaidCallRejectedError,
    ProducerAPIError,
    ProducerConnectionError,
    ProducerError,
    ProducerValidationError,
    RateLimitError,
    SpendingLimitError,
    SpendingStoreError,
    SubmissionUncertainError,
    TaskFailedError,
    TaskLostError,
    TaskNotFoundError,
):
    _error.__module__ = __name__
del _error

__all__ = [
    "ApprovalUnavailableError",
    "AuthenticationError",
    "BalanceTooLowError",
    "BalanceUnknownError",
    "DownloadError",
    "FailedTask",
    "InsufficientBalanceError",
    "JournalConflictError",
    "JournalError",
    "PaidCallRejectedError",
    "ProducerAPIError",
    "ProducerConnectionError",
    "ProducerError",
    "ProducerValidationError",
    "RateLimitError",
    "SpendingLimitError",
    "SpendingStoreError",
    "SubmissionUncertainError",
    "TaskFailedError",
    "TaskLostError",
    "TaskNotFoundError",
    "follow_up_advice",
]
