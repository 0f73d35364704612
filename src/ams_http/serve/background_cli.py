"""`ams worker`, `ams scheduler`, `ams cleanup` and `ams jobs`: background work on Redis,
the periodic jobs, the retention clean-up and the jobs that failed for good."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ams_adapters.cli import CommandError

if TYPE_CHECKING:
    from dishka import Container

    from ams_adapters.dramatiq import QueueSettings
    from ams_http.serve.startup import ServerSettings

SCHEDULER_HELP = (
    "queue the periodic jobs (next week's sessions per institution in its timezone, completing "
    "sessions left open, the weekly low-attendance digest, the daily clean-up) on Redis"
)
WORKER_HELP = (
    "run background jobs: relay the outbox to Redis and deliver notifications with dramatiq "
    "(needs AMS_REDIS_URL)"
)


def add_background_commands(commands: Any) -> None:
    """Add `worker` and `jobs` to the `ams` parser's sub-commands."""
    worker = commands.add_parser("worker", help=WORKER_HELP, description=WORKER_HELP)
    worker.add_argument("--threads", type=int, help="job threads (default AMS_WORKER_JOB_THREADS)")
    worker.add_argument(
        "--prefetch", type=int, help="messages fetched ahead (default AMS_WORKER_PREFETCH, 64)"
    )
    worker.add_argument(
        "--no-relay", action="store_true", help="run jobs only; another worker relays the outbox"
    )
    worker.set_defaults(run=_worker)
    scheduler = commands.add_parser(
        "scheduler",
        help=SCHEDULER_HELP,
        description=SCHEDULER_HELP + ". Each job is keyed by its period: two schedulers queue "
        "it once.",
    )
    scheduler.set_defaults(run=_scheduler)
    cleanup = commands.add_parser(
        "cleanup", help="delete delivered notifications older than a retention period"
    )
    cleanup.add_argument("--days", type=_days, required=True, help="keep this many days")
    cleanup.add_argument("--dry-run", action="store_true", help="say what would go; delete nothing")
    cleanup.set_defaults(run=_cleanup)
    jobs = commands.add_parser("jobs", help="background jobs that failed for good")
    job_commands = jobs.add_subparsers(dest="jobs_command", required=True)
    dead = job_commands.add_parser(
        "dead-letters", help="jobs whose last retry failed (kept 7 days)"
    )
    dead.add_argument("--limit", type=int, default=50)
    dead.set_defaults(run=_dead_letters)
    requeue = job_commands.add_parser("requeue", help="queue every dead-lettered job again")
    requeue.set_defaults(run=_requeue)


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if days < 1:
        raise argparse.ArgumentTypeError("keep at least 1 day")
    return days


def _settings(*, redis: bool = True) -> ServerSettings:
    from ams_http.serve.startup import configure_logging, load_settings

    try:
        settings = load_settings()
    except ValueError as error:
        raise CommandError(str(error)) from None
    if redis and settings.background.redis_url is None:
        raise CommandError(
            "AMS_REDIS_URL is not set: without Redis the API process runs the jobs itself"
        )
    configure_logging(settings.log_level)
    return settings


def queue_settings(
    settings: ServerSettings, args: argparse.Namespace | None = None
) -> QueueSettings:
    """dramatiq's settings from the environment (and the command line)."""
    from ams_adapters.dramatiq import QueueSettings

    background = settings.background
    threads = getattr(args, "threads", None) or background.worker_threads
    prefetch = getattr(args, "prefetch", None) or background.prefetch
    return QueueSettings(
        redis_url=background.redis_url or "",
        namespace=settings.http.redis_prefix.rstrip(":") or "ams",
        threads=threads,
        prefetch=prefetch,
    )


@contextmanager
def _container(settings: ServerSettings) -> Iterator[Container]:
    from dishka import make_container

    from ams_adapters.composition import build_providers

    container = make_container(
        *build_providers(
            sql=settings.sql, identity=settings.identity, background=settings.background
        )
    )
    try:
        yield container
    finally:
        container.close()


def _worker(args: argparse.Namespace) -> int:
    from ams_adapters.dramatiq import make_broker, make_redis, run_worker
    from ams_http.serve.background import OutboxRelayLoop, dramatiq_jobs

    settings = _settings()
    options = queue_settings(settings, args)
    client = make_redis(options)
    broker = make_broker(options, client=client)
    stop = _stop_on_signals()
    with _container(settings) as container:
        jobs = dramatiq_jobs(container, broker, options, settings.background)
        relay = None if args.no_relay else OutboxRelayLoop(container, jobs, settings.background)
        print(
            f"AMS worker: {options.threads} threads, prefetch {options.prefetch}, "
            f"queue {options.queue!r}; notifications for over "
            f"{settings.background.push_part_size:,} devices in parts on queue "
            f"{options.spread_queue!r}{'' if relay else '; not relaying'}",
            file=sys.stderr,
            flush=True,
        )
        if relay is not None:
            relay.start()
        try:
            run_worker(broker, options, stop)
        finally:
            if relay is not None:
                relay.stop()
            broker.close()
    return 0


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    return stop


def _scheduler(args: argparse.Namespace) -> int:
    from ams_adapters.dramatiq import make_broker, make_redis
    from ams_http.serve.background import PeriodicScheduler, dramatiq_jobs

    settings = _settings()
    options = queue_settings(settings)
    client = make_redis(options)
    broker = make_broker(options, client=client)
    stop = _stop_on_signals()
    with _container(settings) as container:
        jobs = dramatiq_jobs(container, broker, options, settings.background)
        scheduler = PeriodicScheduler(container, jobs)
        print("AMS scheduler: queueing periodic jobs every minute", file=sys.stderr, flush=True)
        scheduler.start()
        try:
            stop.wait()
        finally:
            scheduler.stop()
            broker.close()
    return 0


def _cleanup(args: argparse.Namespace) -> int:
    from ams_core.ports import Clock, UnitOfWork
    from ams_core.use_cases import CleanUp, CleanUpCommand

    settings = _settings(redis=False)
    with _container(settings) as container, container() as request:
        clean_up = CleanUp(request.get(UnitOfWork), request.get(Clock))
        result = clean_up(CleanUpCommand(args.days, dry_run=args.dry_run))
    verb = "would delete" if result.dry_run else "deleted"
    print(
        f"{verb} {result.delivered_notifications} notification(s) delivered before "
        f"{result.before:%Y-%m-%d %H:%M} UTC; undelivered notifications and attendance "
        f"history are kept"
    )
    return 0


def _dead_letters(args: argparse.Namespace) -> int:
    from ams_adapters.dramatiq import dead_letters, make_broker

    settings = _settings()
    options = queue_settings(settings)
    # a fresh broker declares no queue: name the ones `ams worker` consumes
    queues = (options.queue, options.spread_queue)
    letters = dead_letters(make_broker(options), limit=args.limit, queues=queues)
    for letter in letters:
        print(
            f"{letter.failed_at:%Y-%m-%d %H:%M:%S}  {letter.job_name}  "
            f"{dict(letter.payload)}  {letter.error or ''}"
        )
    print(f"{len(letters)} dead-lettered job(s)", file=sys.stderr)
    return 0


def _requeue(args: argparse.Namespace) -> int:
    from ams_adapters.dramatiq import make_broker, requeue_dead_letters

    settings = _settings()
    options = queue_settings(settings)
    queues = (options.queue, options.spread_queue)
    count = requeue_dead_letters(make_broker(options), queues=queues)
    print(f"queued {count} job(s) again", file=sys.stderr)
    return 0
