"""The package's public surface: what ``from langchain_producer import ...`` offers is pinned
here, so a name is only ever added or removed on purpose (and then in CHANGELOG.md)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

import langchain_producer
from langchain_producer import Generate, ProducerClient, TaskFailedError
from langchain_producer.emulator import ProducerEmulator

PUBLIC = {
    "AudioAction",
    "ApprovalUnavailableError",
    "AudioParams",
    "AuthenticationError",
    "Balance",
    "BalanceTooLowError",
    "BalanceUnknownError",
    "Cover",
    "DEFAULT_MODEL",
    "DownloadError",
    "DownloadProgress",
    "Extend",
    "Generate",
    "GenerateCustom",
    "InsufficientBalanceError",
    "JournalConflictError",
    "JournalError",
    "Lyrics",
    "MODELS",
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
}


def test_all_is_pinned_and_every_name_in_it_exists() -> None:
    assert set(langchain_producer.__all__) == PUBLIC
    assert len(langchain_producer.__all__) == len(PUBLIC)  # no name listed twice
    for name in PUBLIC:
        assert getattr(langchain_producer, name) is not None, name


def test_version_is_the_packaged_one() -> None:
    pyproject = Path(__file__).parents[1] / "pyproject.toml"
    version = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    assert langchain_producer.__version__ == version


def test_a_failed_task_is_returned_and_raises_only_when_asked(
    emulator: ProducerEmulator, fast_polling: dict[str, Any]
) -> None:
    client = ProducerClient(api_key="k", transport=emulator.transport, **fast_polling)
    emulator.fail_next("task_failed")
    failed = client.submit(Generate(prompt="doomed"), wait=True, max_wait=5)
    assert failed.state == "failed"  # waiting returns it: its error and partial songs are in it
    with pytest.raises(TaskFailedError) as caught:
        failed.raise_for_failure()
    assert caught.value.task is failed
    assert caught.value.task_id == failed.task_id  # the id needed to follow it up
    assert failed.error is not None and failed.error.code in str(caught.value)
    finished = client.submit(Generate(prompt="fine"), wait=True, max_wait=5)
    assert finished.raise_for_failure() is finished
