"""Every expected failure of flowcase, in one tree rooted at :class:`FlowcaseError`.

Each class declares what it means at the two edges as class keywords (``exit_code=``, ``status=``, ``code=``;
see :class:`FlowcaseError`): ``exit_code`` for the command line (the table in docs/cli.md,
checked by tests/test_cli_docs.py) and ``http_status`` with ``api_code`` for the JSON API. The CLI translates
them in one place (``flowcase.cli.common.friendly_errors``), the web app in one handler
(``flowcase.web.errors.flowcase_error_handler``). Anything else that escapes is a bug: a traceback on the
command line, a logged 500 on the web.

This module imports nothing from flowcase at run time, so every layer may raise these. Classes with richer
data live next to the code that raises them and derive from the classes here (``DamagedError`` in
jira/storage.py, ``PublishNotReady`` in jira/publish.py, ``JwtError`` in hosts/connect/jwt.py, ...); the names
below stay importable from where they used to live (``flowcase.model.diagnostics.ModelError``, ...).

::

    FlowcaseError                  exit 1   HTTP 500 internal
    ├── ModelError                 exit 1   HTTP 422 invalid-model
    ├── ExpressionError            exit 1   HTTP 422 invalid-expression
    ├── GenerationError            exit 1   HTTP 422 cannot-generate
    │   └── OptionError            exit 1   HTTP 422 bad-option
    ├── ExportError                exit 1   HTTP 422 unknown-format
    ├── ConfigError                exit 2   HTTP 500 misconfigured
    ├── JiraError                  exit 3   HTTP 502 jira-error
    │   ├── JiraRateLimited        exit 3   HTTP 503 rate-limited
    │   └── JiraRefused            exit 3   HTTP 403/404 jira-forbidden / jira-not-found
    ├── StorageError               exit 3   HTTP 502 storage-error
    ├── PublishError               exit 3   HTTP 502 publish-failed
    ├── ConflictError              exit 4   HTTP 409 conflict
    ├── SettingsError              exit 3   HTTP 422 bad-settings
    └── AuthError                  exit 2   HTTP 401 unauthenticated
        ├── TenantUnavailableError exit 2   HTTP 403 not-installed
        └── CredentialsError       exit 2   HTTP 400 bad-credentials
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # type-only: no run-time import, so this module stays at the bottom of the import graph
    import httpx

    from flowcase.model.diagnostics import Diagnostic

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_SERVICE = 3
EXIT_CONFLICT = 4

EXIT_MEANINGS: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_INVALID: "invalid input: the model, a tests file or another input file is wrong, missing or unreadable",
    EXIT_USAGE: "usage error: an unknown option, a missing argument, unusable configuration or credentials",
    EXIT_SERVICE: "an external service (Jira) failed or refused the request",
    EXIT_CONFLICT: "conflict: someone else changed the stored model first",
}

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class FlowcaseError(Exception):
    """An expected failure: a one-line message for people, an exit code and an HTTP answer for machines.

    A subclass declares its answers as class keywords, ``class RateLimited(JiraError, status=503,
    code="rate-limited")``: ``exit_code`` (the CLI's), ``status`` (the API's HTTP status) and ``code`` (the
    API's error code), each inherited when not given. They become the class attributes ``exit_code``,
    ``http_status`` and ``api_code``; a subclass whose answer depends on the case (a Jira 404 versus 403) sets
    them on the instance.
    """

    exit_code: int = EXIT_INVALID
    http_status: int = 500
    api_code: str = "internal"

    def __init_subclass__(
        cls, *, exit_code: int | None = None, status: int | None = None, code: str | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if exit_code is not None:
            if exit_code not in EXIT_MEANINGS or exit_code == EXIT_OK:
                raise TypeError(f"{cls.__qualname__}: exit code {exit_code} is not one of the documented failures")
            cls.exit_code = exit_code
        if status is not None:
            if not 400 <= status <= 599:
                raise TypeError(f"{cls.__qualname__}: HTTP status {status} is not an error status")
            cls.http_status = status
        if code is not None:
            cls.api_code = code

    def cli_message(self) -> str:
        """What the command line prints after ``flowcase: error:`` (then any notes added on the way up)."""
        return str(self)

    def api_message(self) -> str:
        """The one line the API answers with."""
        return str(self)

    def api_details(self) -> dict[str, Any]:
        """Extra JSON fields of the API's error object (camelCase; JSON values only)."""
        return {}


# --- input: models, expressions, generation, export -------------------------------------------------------------


class ModelError(FlowcaseError, exit_code=EXIT_INVALID, status=422, code="invalid-model"):
    """A model that cannot be read or is invalid; carries every error found."""

    def __init__(self, diagnostics: Sequence[Diagnostic], source: str | None = None) -> None:
        self.diagnostics = tuple(diagnostics)
        self.source = source
        super().__init__("\n".join(d.format(source) for d in self.diagnostics) or "invalid model")

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    def api_message(self) -> str:
        return self.errors[0].format() if self.errors else str(self)

    def api_details(self) -> dict[str, Any]:
        return {"diagnostics": [d.as_json() for d in self.diagnostics]}


class ExpressionError(FlowcaseError, exit_code=EXIT_INVALID, status=422, code="invalid-expression"):
    """A condition or assignment that does not parse, type-check or evaluate (model/expr.py)."""


class GenerationError(FlowcaseError, exit_code=EXIT_INVALID, status=422, code="cannot-generate"):
    """Options or a model that generation cannot work with; the message is one friendly line."""


class OptionError(GenerationError, code="bad-option"):
    """A generation option of the wrong type or value (from a suite file, the API or the CLI)."""

    def api_message(self) -> str:
        return f"bad generation option: {self}"


class ExportError(FlowcaseError, exit_code=EXIT_INVALID, status=422, code="unknown-format"):
    """An export that cannot be made (unknown format, or a format that needs the model); one friendly line."""


# --- configuration -----------------------------------------------------------------------------------------------


class ConfigError(FlowcaseError, exit_code=EXIT_USAGE, status=500, code="misconfigured"):
    """The environment does not describe a usable configuration (one-line message, no secrets)."""


# --- Jira and what is kept in it -----------------------------------------------------------------------------------


class JiraError(FlowcaseError, exit_code=EXIT_SERVICE, status=502, code="jira-error"):
    """Jira failed a request. ``status`` is 0 when no HTTP answer arrived at all.

    :func:`jira_failure` picks the subclass for a status: :class:`JiraRateLimited` for 429,
    :class:`JiraRefused` for the other 4xx answers.
    """

    def __init__(self, status: int, messages: Sequence[str], response: httpx.Response | None = None) -> None:
        self.status = status
        self.messages = tuple(messages)
        self.response = response
        super().__init__(self.summary())

    def summary(self) -> str:
        text = "; ".join(self.messages) or "no details"
        return f"Jira answered {self.status}: {text}" if self.status else f"Jira unreachable: {text}"

    @property
    def retryable(self) -> bool:
        return self.status == 0 or self.status in _RETRY_STATUSES

    def _text(self) -> str:
        return "; ".join(self.messages)[:500] or "no details"

    def api_message(self) -> str:
        return f"Jira failed ({self.status or 'no answer'}): {self._text()}"


class JiraRateLimited(JiraError, status=503, code="rate-limited"):
    """Jira answered 429 and kept doing so for as long as the client waited; ``retry_after`` in seconds."""

    def __init__(
        self,
        status: int,
        messages: Sequence[str],
        response: httpx.Response | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, messages, response)
        self.retry_after = retry_after

    def api_message(self) -> str:
        return f"Jira is rate limiting this site; try again later: {self._text()}"

    def api_details(self) -> dict[str, Any]:
        return {"retryAfter": max(1, round(self.retry_after))} if self.retry_after is not None else {}


class JiraRefused(JiraError, status=403, code="jira-forbidden"):
    """Jira refused the request (a 4xx other than 429): no permission, no such issue, invalid fields."""

    def __init__(self, status: int, messages: Sequence[str], response: httpx.Response | None = None) -> None:
        super().__init__(status, messages, response)
        if status == 404:
            self.http_status, self.api_code = 404, "jira-not-found"
        elif status not in (401, 403):
            self.http_status, self.api_code = 502, "jira-refused"

    def cli_message(self) -> str:
        return f"{self} (check the e-mail and API token)" if self.status == 401 else str(self)

    def api_message(self) -> str:
        if self.status == 404:
            return f"Jira: {self._text()}"
        if self.status in (401, 403):
            return f"Jira refused: {self._text()}"
        return super().api_message()


def jira_failure(
    status: int, messages: Sequence[str], response: httpx.Response | None = None, retry_after: float | None = None
) -> JiraError:
    """The :class:`JiraError` subclass for a Jira answer with ``status`` (0: no answer)."""
    if status == 429:
        return JiraRateLimited(status, messages, response, retry_after)
    if 400 <= status < 500:
        return JiraRefused(status, messages, response)
    return JiraError(status, messages, response)


class StorageError(FlowcaseError, exit_code=EXIT_SERVICE, status=502, code="storage-error"):
    """The model kept in Jira is missing pieces, corrupt, unreadable, or cannot be written (one-line message)."""


class PublishError(FlowcaseError, exit_code=EXIT_SERVICE, status=502, code="publish-failed"):
    """Publishing stopped; ``retryable`` tells whether trying again later may succeed (one-line message)."""

    def __init__(self, message: str, *, retryable: bool = False, status: int = 0) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class ConflictError(FlowcaseError, exit_code=EXIT_CONFLICT, status=409, code="conflict"):
    """Someone saved the model after the revision this edit started from."""

    def __init__(
        self,
        issue_key: str,
        expected: int | None,
        actual: int | None,
        *,
        saved_at: str | None = None,
        saved_by: str | None = None,
    ) -> None:
        self.issue_key = issue_key
        self.expected = expected
        self.actual = actual
        self.saved_at = saved_at
        self.saved_by = saved_by
        when = f" at {saved_at}" if saved_at else ""
        super().__init__(
            f"the model on {issue_key} was changed by someone else (now revision {actual}{when}, "
            f"this edit started from {expected if expected is not None else 'nothing'}): reload and reapply"
        )

    def api_details(self) -> dict[str, Any]:
        return {"revision": self.actual, "savedAt": self.saved_at, "savedBy": self.saved_by}


class SettingsError(FlowcaseError, exit_code=EXIT_SERVICE, status=422, code="bad-settings"):
    """Publish settings (kept in Jira) that Jira would refuse or that make no sense (one-line message)."""

    def cli_message(self) -> str:
        return f"project settings: {self}"


# --- authentication ------------------------------------------------------------------------------------------------


class AuthError(FlowcaseError, exit_code=EXIT_USAGE, status=401, code="unauthenticated"):
    """A request or a token that does not authenticate (signature, expiry, audience, site)."""


class TenantUnavailableError(AuthError, status=403, code="not-installed"):
    """The site is uninstalled or disabled: no call is made."""

    def api_message(self) -> str:
        return "flowcase is not installed or is disabled on this Jira site"


class CredentialsError(AuthError, status=400, code="bad-credentials"):
    """Credentials refused before anything is sent (missing, or a token over plain http)."""


def error_classes() -> list[type[FlowcaseError]]:
    """Every subclass of :class:`FlowcaseError` defined so far (import the modules first), in tree order."""
    out: list[type[FlowcaseError]] = []

    def walk(cls: type[FlowcaseError]) -> None:
        out.append(cls)
        for sub in sorted(cls.__subclasses__(), key=lambda c: (c.__module__, c.__qualname__)):
            walk(sub)

    walk(FlowcaseError)
    return out
