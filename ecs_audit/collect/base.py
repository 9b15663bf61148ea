"""What every collector shares: calls that record their failures, pagination and batching."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any, TypeVar

import botocore
import botocore.exceptions
from botocore import xform_name
from botocore.client import BaseClient
from botocore.parsers import ResponseParserError

from ecs_audit.errors import ReadOnlyViolation
from ecs_audit.interrupt import worker_pool
from ecs_audit.inventory.errors import NOT_COLLECTED, NOT_SELECTED, ApiError, iam_action
from ecs_audit.session import ClientFactory

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class _Absent:
    """Returned by `call` when the API says the thing asked about does not exist."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()


def batched(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class CollectContext:
    """One account and region: a client per service, an error log, and a bounded worker pool."""

    def __init__(
        self,
        clients: ClientFactory,
        account_id: str,
        region: str,
        *,
        partition: str = "aws",
        max_workers: int = 8,
        max_in_flight: int = 16,
        needed: frozenset[str] | None = None,
    ):
        self.clients = clients
        self.account_id = account_id
        self.region = region
        self.partition = partition
        self.max_workers = max(1, max_workers)
        self.errors: list[ApiError] = []
        # The IAM actions the selected checks need (None: every check runs), and the optional calls
        # left out because no selected check needs them (`wants`, `not_collected`).
        self.needed = needed
        self.skipped: list[ApiError] = []
        self._lock = threading.Lock()
        # Caps this account and region's concurrent API calls, whatever the threads: the audited
        # teams' own deployments share the account's API rate limits.
        self.max_in_flight = max(1, max_in_flight)
        self._in_flight = threading.BoundedSemaphore(self.max_in_flight)
        # Services whose endpoint did not answer (after botocore's retries): (code, message) for the
        # calls not sent to it afterwards.
        self._unreachable: dict[str, tuple[str, str]] = {}
        # Calls sent ahead of their collector (`prefetch`), by (service, operation, parameters).
        self._early: dict[str, _Early] = {}
        self._early_threads: list[threading.Thread] = []
        self._ahead_threads: list[threading.Thread] = []

    def client(self, service: str) -> BaseClient:
        return self.clients.client(service, self.region)

    def arn(self, service: str, resource: str) -> str:
        """An ARN in this account and region, e.g. arn("ecs", "task-definition/web")."""
        return f"arn:{self.partition}:{service}:{self.region}:{self.account_id}:{resource}"

    def wants(self, action: str) -> bool:
        """Whether some selected check needs IAM action `action` (service:Operation). Only calls that
        enumerate nothing may be left out on this answer; when one is, say so with `not_collected`."""
        return self.needed is None or action in self.needed

    def collects(self, service: str, *operations: str) -> bool:
        """Whether some selected check needs any of `operations` (calls that together read one
        optional fact); when none does, each is recorded with `not_collected` and False returned."""
        if any(self.wants(iam_action(service, operation)) for operation in operations):
            return True
        for operation in operations:
            self.not_collected(service, operation)
        return False

    def not_collected(self, service: str, operation: str, context: str | None = None) -> None:
        """Record that `operation` was left out in this region because no selected check needed it:
        a check that needs it, evaluated later from the snapshot, is UNKNOWN, never PASS."""
        error = ApiError(
            context=context or NOT_SELECTED,
            account_id=self.account_id,
            region=self.region,
            service=service,
            operation=operation,
            error_code=NOT_COLLECTED,
            message="not collected in this run: no check selected for the scan needed it; scan again with this check selected",
        )
        with self._lock:
            if error not in self.skipped:
                self.skipped.append(error)

    def record(
        self,
        service: str,
        operation: str,
        code: str,
        message: str,
        resources: Iterable[str] = (),
        context: str | None = None,
    ) -> None:
        error = ApiError(
            context=context,
            account_id=self.account_id,
            region=self.region,
            service=service,
            operation=operation,
            error_code=code,
            message=message[:500],
            resources=sorted(set(resources)),
        )
        log.info("%s %s: %s failed: %s", self.account_id, self.region, error.action, code)
        with self._lock:
            self.errors.append(error)

    def call(
        self,
        service: str,
        operation: str,
        *,
        resources: Iterable[str] = (),
        absent_codes: Iterable[str] = (),
        context: str | None = None,
        **params: Any,
    ) -> dict[str, Any] | _Absent | None:
        """Call `operation` (API name, e.g. DescribeServices). Returns the response, ABSENT when the
        error code is one of `absent_codes`, or None after recording the failure."""
        if self._skip_unreachable(service, operation, resources, context):
            return None
        with self._lock:
            early = self._early.pop(_call_key(service, operation, params), None)
        try:
            if early is not None:
                return early.result()
            method = operation_method(self.client(service), service, operation)
            with self.in_flight(service, operation):
                return method(**params)
        except _CALL_ERRORS as exc:
            code, message = _describe_exception(exc)
            if code in set(absent_codes):
                return ABSENT
            self._note_unreachable(service, exc, code, message)
            self.record(service, operation, code, message, resources, context)
            return None

    def prefetch(self, service: str, operation: str, **params: Any) -> None:
        """Send now a call a collector will make later with the same arguments, for a call that
        depends on nothing the collector waits for: `call` then takes its outcome instead of sending
        it again. A failure is recorded only when taken, so an answer nobody takes leaves no trace
        in the inventory."""
        key = _call_key(service, operation, params)
        with self._lock:
            if key in self._early:
                return
            early = self._early[key] = _Early()

        def send() -> Any:
            method = operation_method(self.client(service), service, operation)
            with self.in_flight(service, operation):
                return method(**params)

        thread = threading.Thread(target=early.run, args=(send,), name=f"prefetch {operation}", daemon=True)
        self._early_threads.append(thread)
        thread.start()

    def sent_ahead(self, service: str, operation: str, **params: Any) -> Any:
        """The answer to a call sent ahead (waiting for it), left for its collector to take; None if
        no such call was sent ahead or it failed (its collector records the failure)."""
        with self._lock:
            early = self._early.get(_call_key(service, operation, params))
        if early is None:
            return None
        try:
            return early.result()
        except BaseException:
            return None

    def was_sent_ahead(self, service: str, operation: str, **params: Any) -> bool:
        """Whether this call was sent ahead and its answer is still to be taken."""
        with self._lock:
            return _call_key(service, operation, params) in self._early

    @property
    def paced(self) -> bool:
        """Whether the calls are paced (a share of the account's rate buckets, pacing.py)."""
        return getattr(self.clients, "pacer", None) is not None

    def send_ahead(self, work: Callable[[], None], name: str) -> None:
        """Run `work` (which sends calls ahead with `prefetch`, possibly after waiting for other
        answers) in a thread of its own; `sent_all_ahead` waits until it is done."""

        def run() -> None:
            try:
                work()
            except Exception as exc:  # nothing is lost: the collector sends what was not sent ahead
                log.debug("sending %s ahead stopped: %s: %s", name, type(exc).__name__, exc)

        thread = threading.Thread(target=run, name=f"ahead {name}", daemon=True)
        with self._lock:
            self._ahead_threads.append(thread)
        thread.start()

    def sent_all_ahead(self) -> None:
        """Wait for the work started with `send_ahead` (a collector then takes its answers, never
        sending a call again that is still being sent ahead)."""
        with self._lock:
            threads = list(self._ahead_threads)
        for thread in threads:
            thread.join()

    def settle(self) -> None:
        """Wait for the calls sent ahead that nobody took (their answers are dropped)."""
        self.sent_all_ahead()
        for thread in self._early_threads:
            thread.join()

    def paginate(
        self,
        service: str,
        operation: str,
        result_key: str,
        *,
        resources: Iterable[str] = (),
        context: str | None = None,
        **params: Any,
    ) -> list[Any] | None:
        """Every item of a paginated list call, or None (failure recorded) if any page failed."""
        if self._skip_unreachable(service, operation, resources, context):
            return None
        client = self.client(service)
        method = xform_name(operation)
        items: list[Any] = []
        try:
            operation_method(client, service, operation)
            pages = iter(client.get_paginator(method).paginate(**params))
            first = True
            while True:
                # The first page's token is paid ahead; a later page's in its slot (the before-send
                # hook): the `next` after the last page sends nothing and must not take a token.
                with self.in_flight(service, operation) if first else self._in_flight:
                    page = next(pages, None)
                first = False
                if page is None:
                    break
                items.extend(page.get(result_key, []))
        except _CALL_ERRORS as exc:
            code, message = _describe_exception(exc)
            self._note_unreachable(service, exc, code, message)
            self.record(service, operation, code, message, resources, context)
            return None
        return items

    def _note_unreachable(self, service: str, exc: Exception, code: str, message: str) -> None:
        """A timeout or refused connection that outlasted the retries: the endpoint is down for this
        account and region, and waiting for it again call after call would stall the audit."""
        if isinstance(exc, _UNREACHABLE):
            with self._lock:
                self._unreachable.setdefault(service, (code, f"not sent: an earlier {service} call got no answer here ({message})"))

    def _skip_unreachable(self, service: str, operation: str, resources: Iterable[str], context: str | None) -> bool:
        skipped = self._unreachable.get(service)
        if skipped is not None:
            self.record(service, operation, skipped[0], skipped[1], resources, context)
        return skipped is not None

    @contextmanager
    def in_flight(self, service: str, operation: str) -> Iterator[None]:
        """One of the in-flight slots for one request of `operation` (`with ctx.in_flight(...)`, for a
        call a collector sends itself). Its pacing token is taken first, outside the slot: a call
        waiting for its bucket holds no slot, so the calls on other buckets are not held up behind it."""
        ahead = getattr(self.clients, "ahead", None)
        with ahead(service, self.region, operation) if ahead is not None else nullcontext(), self._in_flight:
            yield

    def parallel(self, function: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Apply `function` to every item on a bounded pool; results in input order. The pool has
        enough threads to keep `max_in_flight` calls in flight: the semaphore, not the pool, caps them."""
        items = list(items)
        if len(items) <= 1 or self.max_workers == 1:
            return [function(item) for item in items]
        with worker_pool(min(max(self.max_workers, self.max_in_flight), len(items)), "collect") as pool:
            return list(pool.map(function, items))


class _Early:
    """The outcome of a call sent ahead (`CollectContext.prefetch`): its answer or its exception."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def run(self, send: Callable[[], Any]) -> None:
        try:
            self._value = send()
        except BaseException as exc:  # handed to whoever takes the answer
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> Any:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


class UnknownOperation(botocore.exceptions.BotoCoreError):
    """The installed botocore has no model of the operation (older than pyproject.toml asks for, or
    the operation newer than it): a failed call, recorded, never a crash that loses the region."""

    fmt = "the installed botocore {version} does not know {service}:{operation}; upgrade boto3 and botocore"


def operation_method(client: BaseClient, service: str, operation: str) -> Callable[..., Any]:
    """The client's method for API operation `operation`; UnknownOperation if its botocore lacks it."""
    try:
        return getattr(client, xform_name(operation))
    except AttributeError:
        raise UnknownOperation(version=botocore.__version__, service=service, operation=operation) from None


def _call_key(service: str, operation: str, params: dict[str, Any]) -> str:
    return json.dumps([service, operation, params], sort_keys=True, default=str)


# ValueError: some parsers raise it for unparseable bodies, and the clients' MalformedResponse is one.
# ResponseParserError: botocore's parsers raise it for bodies they cannot read (e.g. broken XML).
_CALL_ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, ReadOnlyViolation, ValueError, ResponseParserError)
_UNREACHABLE = (
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectionClosedError,
)


def _describe_exception(exc: Exception) -> tuple[str, str]:
    """(error code, message) for a failed call, with HTML error pages reduced to a plain phrase."""
    if isinstance(exc, botocore.exceptions.ClientError):
        response = exc.response if isinstance(exc.response, dict) else {}
        error = response.get("Error", {})
        code = str(error.get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "ClientError")
        message = str(error.get("Message") or "")
    elif isinstance(exc, ReadOnlyViolation):
        code, message = "BlockedByReadOnlyGuard", str(exc)
    elif isinstance(exc, botocore.exceptions.BotoCoreError):
        code, message = type(exc).__name__, str(exc)
    else:
        code, message = "MalformedResponse", str(exc)
    if message.lstrip().startswith("<"):
        message = "unexpected non-API response from the endpoint"
    return code, message
