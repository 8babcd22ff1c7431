"""Where `scraper reclean` runs its tasks: in this process, or on a Dask distributed cluster.

``--cluster`` takes ``local`` (one worker process per core), ``local:N`` (N worker processes
on this machine), or a scheduler address such as ``tcp://scheduler:8786``. Dask is an optional
extra (``pip install 'opinion-scraper[dask]'``) imported only here and only when asked for.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from scraper.errors import ConfigError, ScraperError

T = TypeVar("T")
_LOCAL = re.compile(r"local(?::(\d+))?")
_ADDRESS = re.compile(r"(?:(tcp|tls|inproc|ucx|ws|wss)://)?[\w.\-\[\]:]+:\d{1,5}")
# A task is retried on another worker when its worker dies; after this many deaths the
# task is deemed to be what kills workers (a poison page) and the run reports it.
ALLOWED_FAILURES = 3


class ClusterUnavailable(ScraperError):
    """The scheduler cannot be reached, or it has no worker."""


class DaskNotInstalled(ScraperError):
    """``--cluster`` was given but the [dask] extra is not installed."""


class Executor(Protocol):
    """Runs task calls and yields ``(call number, result or exception)`` as they finish."""

    @property
    def workers(self) -> int: ...

    def map_unordered(
        self, function: Callable[..., T], calls: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, T | BaseException]]: ...


class InProcess:
    """The default executor: every task in this process, one after another."""

    workers = 1

    def map_unordered(
        self, function: Callable[..., T], calls: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, T | BaseException]]:
        for number, args in enumerate(calls):
            try:
                result: T | BaseException = function(*args)
            except Exception as exc:  # same contract as a failed remote task
                result = exc
            yield number, result


@dataclass(frozen=True)
class ClusterSpec:
    """A parsed ``--cluster`` value: a scheduler address, or a local cluster of N workers."""

    address: str | None = None
    local_workers: int = 0

    def __str__(self) -> str:
        return self.address or f"local:{self.local_workers}"


def parse_cluster(value: str) -> ClusterSpec:
    """Parse ``local``, ``local:N`` or a scheduler address.

    Raises:
        ConfigError: the value is none of these.
    """
    value = value.strip()
    local = _LOCAL.fullmatch(value)
    if local:
        workers = int(local.group(1)) if local.group(1) else (os.cpu_count() or 1)
        if not 1 <= workers <= 256:
            raise ConfigError(f"--cluster {value!r}: local needs 1 to 256 workers")
        return ClusterSpec(local_workers=workers)
    if _ADDRESS.fullmatch(value):
        return ClusterSpec(address=value if "://" in value else f"tcp://{value}")
    raise ConfigError(
        f"--cluster {value!r}: expected local, local:N or a scheduler address "
        "such as tcp://scheduler:8786"
    )


class DaskExecutor:
    """Submits each call as one Dask task and yields results as tasks finish."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info()["workers"]))

    def map_unordered(
        self, function: Callable[..., T], calls: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, T | BaseException]]:
        as_completed = importlib.import_module("distributed").as_completed
        if not calls:
            return
        # pure=False: a retried reclean must really re-read the files, not reuse old results.
        futures = self.client.map(function, *zip(*calls, strict=True), pure=False)
        numbers = {future.key: number for number, future in enumerate(futures)}
        for future in as_completed(futures):
            try:
                result: T | BaseException = future.result()
            except Exception as exc:  # KilledWorker after ALLOWED_FAILURES, or a task's bug
                result = exc
            number = numbers.pop(future.key)
            future.release()
            yield number, result


@contextmanager
def dask_executor(spec: ClusterSpec, *, timeout: float = 30.0) -> Iterator[DaskExecutor]:
    """A connected Dask client for ``spec`` (starting a local cluster if asked), then closed.

    Raises:
        DaskNotInstalled: the [dask] extra is missing.
        ClusterUnavailable: no scheduler or no worker answered.
    """
    try:
        # Imported by name so that neither the default install nor the type checker needs it.
        dask: Any = importlib.import_module("dask")
        distributed: Any = importlib.import_module("distributed")
    except ImportError as exc:
        raise DaskNotInstalled(
            "--cluster needs Dask: pip install 'opinion-scraper[dask]' "
            f"(or dask[distributed]) ({exc})"
        ) from None
    config = {"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}
    with dask.config.set(config):
        if spec.address is None:
            # One thread per worker process: cleaning is CPU-bound Python, threads would
            # only contend for the GIL. The scheduler's HTTP server (dashboard, health) starts
            # whatever the setting, on 127.0.0.1 only.
            cluster = distributed.LocalCluster(
                n_workers=spec.local_workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=":0",  # any free port: a busy 8787 must not fail the run
                silence_logs=logging.ERROR,
            )
            client = distributed.Client(cluster)
        else:
            cluster = None
            try:
                client = distributed.Client(spec.address, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                raise ClusterUnavailable(
                    f"cannot reach the Dask scheduler at {spec.address}: {exc}"
                ) from None
        try:
            try:
                client.wait_for_workers(1, timeout=timeout)
            except TimeoutError:
                raise ClusterUnavailable(
                    f"the Dask scheduler at {spec} has no worker after {timeout:g} s"
                ) from None
            yield DaskExecutor(client)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
