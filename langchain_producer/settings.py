"""``ProducerSettings``: every setting of a ``ProducerClient``, declared and validated once.

``ProducerClient(**keywords)``, ``ProducerClient(settings)`` and ``ProducerToolkit(**keywords)``
all go through this one model, so a setting added here is at once a keyword of the client and of
the toolkit, with its default, environment variable and checks in this file only.

Examples:
    >>> from langchain_producer import ProducerSettings
    >>> settings = ProducerSettings(api_key="demo", poll_interval=0.5)
    >>> settings.max_poll_interval, settings.default_model
    (15.0, 'FUZZ-2.0')
    >>> from langchain_producer import ProducerValidationError
    >>> try:
    ...     ProducerSettings(api_key="demo", poll_interval=20)
    ... except ProducerValidationError as error:
    ...     print(error.message)
    Invalid Producer settings: max_poll_interval (15.0) must be at least poll_interval (20.0).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote

import httpx
from langchain_core.utils import from_env, secret_from_env
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from langchain_producer._constants import (
    API_KEY_ENV,
    BASE_URL_ENV,
    CALLBACK_ROUTE,
    DEFAULT_BASE_URL,
    DEFAULT_MODEL,
    DEFAULT_MODEL_ENV,
    ProducerModel,
)
from langchain_producer.errors import ProducerValidationError

PLATFORM_TOKEN_ENV = "ACEDATACLOUD_PLATFORM_TOKEN"
"""Where the platform token (the account API's, not the API token) is read from, as the vendor's
own MCP server reads it."""
APPLICATION_ID_ENV = "ACEDATACLOUD_APPLICATION_ID"
PLATFORM_BASE_URL_ENV = "ACEDATACLOUD_PLATFORM_BASE_URL"
DEFAULT_PLATFORM_BASE_URL = "https://platform.acedata.cloud"
CALLBACK_BASE_URL_ENV = "PRODUCER_CALLBACK_BASE_URL"
CALLBACK_SECRET_ENV = "PRODUCER_CALLBACK_SECRET"
_CALLBACK_SECRET = re.compile(r"[A-Za-z0-9._~-]{16,256}")
_APPLICATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
"""Per-request timeout when none is set: 30 s, of which at most 10 s to connect."""

_HINT = (
    f"Fix the setting(s) named above; nothing was sent. The key, base URL and default model "
    f"may also come from {API_KEY_ENV}, {BASE_URL_ENV} and {DEFAULT_MODEL_ENV}."
)


class ProducerSettings(BaseModel):
    """How a ``ProducerClient`` reaches the service, retries and polls.

    Every field is also a keyword of ``ProducerClient`` and ``ProducerToolkit``. ``None`` for
    any field means "the default" (so ``base_url=None`` still reads the environment). A bad
    value raises ``ProducerValidationError`` naming the field and what is allowed, before any
    network call. The key is a ``SecretStr``: it never shows in a repr, a dump or an error.

    Args:
        api_key: The AceDataCloud token. Defaults to the ``ACEDATACLOUD_API_TOKEN`` variable.
        base_url: Defaults to ``ACEDATACLOUD_API_BASE_URL``, else ``https://api.acedata.cloud``.
        default_model: Model used when a request sets none. Defaults to
            ``PRODUCER_DEFAULT_MODEL``, else ``FUZZ-2.0``.
        timeout: Per-request timeout in seconds, or an ``httpx.Timeout``.
        max_retries: Retries of a call that failed in a way that is safe to retry.
        poll_interval: Seconds before the first re-check of a running task.
        max_poll_interval: The longest pause between two checks of one task (at least
            ``poll_interval``).
        callback_url: A webhook the service calls when an audio task ends. A deployment
            setting: no model-facing tool can change it. Shown masked in dumps.
        callback_base_url: Where this deployment's receiver (``langchain_producer.webhooks``)
            is reached, e.g. ``https://agents.example.com``. With ``callback_secret`` it makes
            ``callback_url`` (``<base>/producer/callback/<secret>``), so that neither the model
            nor the code sees the secret. Defaults to ``PRODUCER_CALLBACK_BASE_URL``.
        callback_secret: The receiver's secret path segment (16 to 256 URL-safe characters,
            e.g. ``secrets.token_urlsafe(32)``). Defaults to ``PRODUCER_CALLBACK_SECRET``;
            never shown in a repr, a dump or an error.
        callback_poll_interval: With ``callback_url`` and ``store``, waits listen for the
            receiver's record of the task (``langchain_producer.webhooks``) and look the task
            up only every this many seconds, in case its callback is lost.
        transport: An httpx transport for both the sync and the async client, e.g. the
            emulator's. It must work both ways: a sync-only or async-only transport is
            refused (wrap it in ``http_client=`` or ``http_async_client=`` to use one side).
        http_client: A ready ``httpx.Client`` for sync calls. The caller owns it: ``close()``
            leaves it open.
        http_async_client: A ready ``httpx.AsyncClient`` for async calls, used on whatever
            event loop it was made for. The caller owns it: ``aclose()`` leaves it open.
        store: A LangGraph ``BaseStore`` (``InMemoryStore``, ``SqliteStore``,
            ``PostgresStore``, ...) for the journal of paid calls (``langchain_producer.journal``).
            Inside a LangGraph run without it, the graph's own store is used; with neither,
            paid calls are not journalled and a resumed graph may submit (and pay) twice.
        platform_token: The AceDataCloud *platform* token (not the API token) that reads the
            application's balance (``ProducerClient.balance()``, ``min_balance=``). Defaults to
            ``ACEDATACLOUD_PLATFORM_TOKEN``; never shown to a model, in a repr or an error.
        application_id: The application whose balance is read. Defaults to
            ``ACEDATACLOUD_APPLICATION_ID``.
        platform_base_url: Defaults to ``ACEDATACLOUD_PLATFORM_BASE_URL``, else
            ``https://platform.acedata.cloud``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    # To add a setting: one field here (with its default, bounds and a line in the docstring).
    # It is then a keyword of ProducerClient and ProducerToolkit and lives in client.settings.
    api_key: SecretStr = Field(
        default_factory=secret_from_env(API_KEY_ENV, default=None), validate_default=True
    )
    base_url: str = Field(
        default_factory=from_env(BASE_URL_ENV, default=DEFAULT_BASE_URL), validate_default=True
    )
    default_model: ProducerModel = Field(
        default_factory=from_env(DEFAULT_MODEL_ENV, default=DEFAULT_MODEL),
        validate_default=True,
    )
    timeout: float | httpx.Timeout = DEFAULT_TIMEOUT
    max_retries: int = Field(default=3, ge=0)
    poll_interval: float = Field(default=2.0, gt=0, allow_inf_nan=False)
    max_poll_interval: float = Field(default=15.0, gt=0, allow_inf_nan=False)
    callback_url: str | None = Field(default=None, repr=False)  # its path is a secret
    callback_poll_interval: float = Field(default=60.0, gt=0, allow_inf_nan=False)
    callback_base_url: str | None = Field(
        default_factory=from_env(CALLBACK_BASE_URL_ENV, default=None), repr=False
    )
    callback_secret: SecretStr | None = Field(
        default_factory=secret_from_env(CALLBACK_SECRET_ENV, default=None),
        repr=False,
        exclude=True,
    )
    transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = Field(
        default=None, exclude=True, repr=False
    )
    http_client: httpx.Client | None = Field(default=None, exclude=True, repr=False)
    http_async_client: httpx.AsyncClient | None = Field(default=None, exclude=True, repr=False)
    store: Any = Field(default=None, exclude=True, repr=False)
    platform_token: SecretStr | None = Field(
        default_factory=secret_from_env(PLATFORM_TOKEN_ENV, default=None), repr=False
    )
    application_id: str | None = Field(
        default_factory=from_env(APPLICATION_ID_ENV, default=None), repr=False
    )
    platform_base_url: str = Field(
        default_factory=from_env(PLATFORM_BASE_URL_ENV, default=DEFAULT_PLATFORM_BASE_URL),
        validate_default=True,
    )

    if not TYPE_CHECKING:  # type checkers keep the typed keywords pydantic's plugin makes

        def __init__(self, **values: Any) -> None:
            try:
                super().__init__(**values)
            except ValidationError as error:
                raise invalid_settings(error, known=type(self).model_fields) from None

    @model_validator(mode="before")
    @classmethod
    def _none_means_default(cls, values: Any) -> Any:
        # ProducerToolkit(base_url=None) and friends have always meant "the default".
        if isinstance(values, dict):
            return {key: value for key, value in values.items() if value is not None}
        return values

    @field_validator("api_key", mode="before")
    @classmethod
    def _key_is_set(cls, value: Any) -> Any:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not text:
            raise ValueError(
                f"No API key for the Producer API: set {API_KEY_ENV} or pass api_key=...; to "
                "try everything offline, pass transport=ProducerEmulator().transport with any key"
            )
        return value

    @field_validator("base_url", "default_model", "platform_base_url", mode="before")
    @classmethod
    def _empty_means_default(cls, value: Any, info: ValidationInfo) -> Any:
        # An empty environment variable means "unset", as it always has.
        defaults = {
            "base_url": DEFAULT_BASE_URL,
            "default_model": DEFAULT_MODEL,
            "platform_base_url": DEFAULT_PLATFORM_BASE_URL,
        }
        return value or defaults[info.field_name or ""]

    @field_validator("platform_token", mode="before")
    @classmethod
    def _empty_token_means_none(cls, value: Any) -> Any:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        return value if text else None

    @field_validator("application_id", mode="before")
    @classmethod
    def _path_safe_id(cls, value: Any) -> Any:
        # It goes into a URL path: one plain segment, never a way to reach another path.
        if value is None or value == "":
            return None
        if isinstance(value, str) and _APPLICATION_ID.fullmatch(value):
            return value
        raise ValueError(
            "application_id must be the application's id (letters, digits, '.', '_' or '-', "
            f"at most 128), got {repr(value)[:60]}"
        )

    @field_validator("callback_base_url", "callback_secret", mode="before")
    @classmethod
    def _empty_callback_means_none(cls, value: Any) -> Any:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        return value if text else None

    @field_validator("callback_secret")
    @classmethod
    def _url_safe_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_callback_secret(value)
        return value

    @field_serializer("callback_url")
    def _callback_url_masked(self, value: str | None) -> str | None:
        # Its path is the receiver's secret: a dump says where, never the path itself.
        if value is None:
            return None
        url = httpx.URL(value)
        return f"{url.scheme}://{url.netloc.decode()}/**********"

    @field_validator("base_url", "callback_url", "callback_base_url", "platform_base_url")
    @classmethod
    def _http_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        try:
            return check_http_url(value, info.field_name or "URL").rstrip("/")
        except ProducerValidationError as error:
            raise ValueError(error.message.removesuffix(".")) from None

    @field_validator("timeout")
    @classmethod
    def _positive_timeout(cls, value: float | httpx.Timeout) -> float | httpx.Timeout:
        if isinstance(value, httpx.Timeout) or value > 0:
            return value
        raise ValueError(f"timeout must be more than 0 seconds or an httpx.Timeout, got {value}")

    @field_serializer("timeout")
    def _timeout_as_data(self, value: float | httpx.Timeout) -> float | dict[str, float | None]:
        return value.as_dict() if isinstance(value, httpx.Timeout) else value

    @field_validator("transport")
    @classmethod
    def _both_ways(cls, value: Any) -> Any:
        # One transport serves both clients; half of one would silently bypass it on the other
        # side (the real service, billed, where the caller meant the emulator or a proxy).
        sync = isinstance(value, httpx.BaseTransport)
        if value is None or (sync and isinstance(value, httpx.AsyncBaseTransport)):
            return value
        side, wrap = (
            ("sync", "http_client=httpx.Client")
            if sync
            else (
                "async",
                "http_async_client=httpx.AsyncClient",
            )
        )
        raise ValueError(
            f"transport= serves both sync and async calls, but {type(value).__name__} is "
            f"{side}-only. To use it for {side} calls only, pass {wrap}(transport=...)"
        )

    @field_validator("store")
    @classmethod
    def _a_store(cls, value: Any) -> Any:
        # Typed loosely so LangGraph stays optional; checked for the BaseStore methods used.
        methods = ("get", "put", "search", "delete", "aget", "aput")
        if value is None or all(callable(getattr(value, name, None)) for name in methods):
            return value
        raise ValueError(
            "store must be a LangGraph BaseStore such as InMemoryStore, SqliteStore or "
            f"PostgresStore, got {type(value).__name__}"
        )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.max_poll_interval < self.poll_interval:
            raise ValueError(
                f"max_poll_interval ({self.max_poll_interval}) must be at least poll_interval "
                f"({self.poll_interval})"
            )
        if self.transport is not None and (self.http_client or self.http_async_client):
            raise ValueError(
                "transport= and http_client=/http_async_client= both given: the transport "
                "would be ignored where a client is injected. Give the transport to your "
                "client(s) instead"
            )
        if self.callback_base_url is not None:
            if self.callback_secret is None:
                raise ValueError(
                    f"callback_base_url needs callback_secret (or {CALLBACK_SECRET_ENV}): the "
                    "secret path is what guards the receiver"
                )
            url = callback_url(self.callback_base_url, self.callback_secret)
            if self.callback_url not in (None, url):
                raise ValueError(
                    "callback_url and callback_base_url both given: give the receiver's base "
                    "URL and secret, or a whole callback_url, not both"
                )
            # Frozen model: the one derived field is set once, here, as the model is made.
            object.__setattr__(self, "callback_url", url)
        return self


def invalid_settings(error: ValidationError, known: Iterable[str]) -> ProducerValidationError:
    """One ``ProducerValidationError`` listing every bad setting (never echoing the key).

    Args:
        error: What pydantic found.
        known: Every keyword that would have been accepted (named when one is unknown).
    """
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = f"unknown setting (known: {', '.join(sorted(known))})"
        problems.append(message if not name or message.startswith(name) else f"{name}: {message}")
    return ProducerValidationError(f"Invalid Producer settings: {'; '.join(problems)}.", hint=_HINT)


def check_callback_secret(secret: str | SecretStr) -> str:
    """The secret's text if it is 16 to 256 URL-safe characters, else a ``ValueError`` that
    never holds the secret itself."""
    text = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    if not isinstance(text, str) or not _CALLBACK_SECRET.fullmatch(text):
        raise ValueError(
            "callback secret must be 16 to 256 URL-safe characters (letters, digits, . _ ~ -): "
            "use secrets.token_urlsafe(32)"
        )
    return text


def callback_url(base_url: str, secret: str | SecretStr) -> str:
    """The ``callback_url`` of a receiver at ``base_url``: ``<base>/producer/callback/<secret>``.

    Example:
        >>> callback_url("https://hooks.example.com/", "s3cret-0123456789abcdef")
        'https://hooks.example.com/producer/callback/s3cret-0123456789abcdef'
    """
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        raise ValueError("base_url must be an http(s) URL")
    path = CALLBACK_ROUTE.replace("{secret}", quote(check_callback_secret(secret), safe=""))
    return base_url.rstrip("/") + path


def check_http_url(value: Any, what: str) -> str:
    """``value`` if it is an http(s) URL with a host, else a ``ProducerValidationError``."""
    try:
        url = httpx.URL(value) if isinstance(value, str) else None
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in {"http", "https"} or not url.host:
        raise ProducerValidationError(
            f"{what} must be an http(s) URL with a host, got {value!r}.",
            hint="Give a public link such as https://example.com/song.mp3.",
        )
    return str(value)


__all__ = [
    "APPLICATION_ID_ENV",
    "CALLBACK_BASE_URL_ENV",
    "CALLBACK_SECRET_ENV",
    "DEFAULT_PLATFORM_BASE_URL",
    "DEFAULT_TIMEOUT",
    "PLATFORM_BASE_URL_ENV",
    "PLATFORM_TOKEN_ENV",
    "ProducerSettings",
]
