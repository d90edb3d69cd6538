"""LangChain tools and a typed client for the AceDataCloud Producer music API.

Examples:
    >>> from langchain_producer import ProducerToolkit
    >>> from langchain_producer.emulator import ProducerEmulator
    >>> toolkit = ProducerToolkit(api_key="demo", transport=ProducerEmulator().transport)
    >>> len(toolkit.get_tools())
    18
"""

from importlib import metadata as _metadata

from langchain_producer._constants import DEFAULT_MODEL, MODELS, AudioAction, ProducerModel
from langchain_producer.client import ProducerClient
from langchain_producer.download import DownloadProgress
from langchain_producer.drivers.platform import Balance
from langchain_producer.errors import (
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
)
from langchain_producer.models import (
    Lyrics,
    ProducerTask,
    Song,
    TaskBatch,
    TaskError,
    TaskState,
    UploadedAudio,
    Video,
    WavFile,
    WavResult,
)
from langchain_producer.params import (
    AudioParams,
    Cover,
    Extend,
    Generate,
    GenerateCustom,
    ReplaceSection,
    Stems,
    SwapInstrumentals,
    SwapVocals,
    Variation,
)
from langchain_producer.safety.spending import Spending
from langchain_producer.settings import ProducerSettings
from langchain_producer.toolkit import ProducerToolkit

try:
    __version__ = _metadata.version("langchain-producer")
except _metadata.PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "ApprovalUnavailableError",
    "AudioAction",
    "AudioParams",
    "AuthenticationError",
    "Balance",
    "BalanceTooLowError",
    "BalanceUnknownError",
    "Cover",
    "DownloadError",
    "DownloadProgress",
    "Extend",
    "Generate",
    "GenerateCustom",
    "InsufficientBalanceError",
    "JournalConflictError",
    "JournalError",
    "Lyrics",
    "PaidCallRejectedError",
    "ProducerAPIError",
    "ProducerClient",
    "ProducerConnectionError",
    "ProducerError",
    "ProducerModel",
    "ProducerSettings",
    "ProducerTask",
    "ProducerToolkit",
    "ProducerValidationError",
    "RateLimitError",
    "ReplaceSection",
    "Song",
    "Spending",
    "SpendingLimitError",
    "SpendingStoreError",
    "Stems",
    "SubmissionUncertainError",
    "SwapInstrumentals",
    "SwapVocals",
    "TaskBatch",
    "TaskError",
    "TaskFailedError",
    "TaskLostError",
    "TaskNotFoundError",
    "TaskState",
    "UploadedAudio",
    "Variation",
    "Video",
    "WavFile",
    "WavResult",
    "__version__",
]
