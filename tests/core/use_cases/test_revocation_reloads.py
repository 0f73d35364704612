"""A process reads an institution's revocations again once at a time: while one caller
reads the stale list again, the others answer from the list they have instead of each
taking a database connection for the same read."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, MemoryStore
from ams_core.domain import InstitutionId, SignInId
from ams_core.use_cases import RevocationCache

COLLEGE = InstitutionId("college")
REFRESH = timedelta(seconds=5)
REVOKED = SignInId("revoked-here")
OTHER = SignInId("never-revoked")


class HeldStore:
    """A unit-of-work factory that counts the reads and can hold one until released."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.reads = 0
        self.hold = False
        self.holding = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> InMemoryUnitOfWork:
        self.reads += 1
        if self.hold:
            self.hold = False
            self.holding.set()
            assert self.release.wait(10), "the held read was never released"
        return InMemoryUnitOfWork(self._store)


@pytest.fixture
def held(store: MemoryStore) -> HeldStore:
    return HeldStore(store)


@pytest.fixture
def cache(held: HeldStore, clock: FixedClock) -> RevocationCache:
    return RevocationCache(held, clock, lookback=timedelta(minutes=15), refresh_every=REFRESH)


@pytest.fixture
def reader(held: HeldStore) -> Iterator[list[threading.Thread]]:
    threads: list[threading.Thread] = []
    yield threads
    held.release.set()
    for thread in threads:
        thread.join(10)


def _read_in_background(
    cache: RevocationCache, held: HeldStore, threads: list[threading.Thread]
) -> None:
    """Start a caller whose read of the store is held until ``held.release`` is set."""
    held.hold = True
    thread = threading.Thread(target=cache.is_revoked, args=(COLLEGE, OTHER), daemon=True)
    threads.append(thread)
    thread.start()
    assert held.holding.wait(10), "the background caller never read the store"


def test_while_a_stale_list_is_read_again_other_callers_answer_from_the_one_they_have(
    cache: RevocationCache, held: HeldStore, clock: FixedClock, reader: list[threading.Thread]
) -> None:
    cache.is_revoked(COLLEGE, OTHER)  # the first load
    cache.add(COLLEGE, REVOKED)
    clock.advance(REFRESH)
    assert not cache.is_current(COLLEGE)
    _read_in_background(cache, held, reader)
    reads = held.reads

    assert cache.is_current(COLLEGE)  # an async caller need not leave the event loop
    assert cache.is_revoked(COLLEGE, REVOKED)
    assert not cache.is_revoked(COLLEGE, OTHER)
    assert held.reads == reads  # answered without reading the store again

    held.release.set()
    reader[0].join(10)
    assert cache.is_current(COLLEGE)
    clock.advance(REFRESH)
    assert not cache.is_current(COLLEGE)  # the next stale list is read again, as before
    cache.is_revoked(COLLEGE, OTHER)
    assert held.reads == reads + 1


def test_callers_with_no_list_yet_wait_for_the_one_read_of_it(
    cache: RevocationCache, held: HeldStore, reader: list[threading.Thread]
) -> None:
    cache.add(COLLEGE, REVOKED)  # revoked here before any list was read
    _read_in_background(cache, held, reader)
    answers: list[bool] = []
    waiting = threading.Thread(
        target=lambda: answers.append(cache.is_revoked(COLLEGE, REVOKED)), daemon=True
    )
    waiting.start()

    waiting.join(0.2)
    assert waiting.is_alive()  # no empty answer while the first read runs
    assert not cache.is_current(COLLEGE)
    held.release.set()
    waiting.join(10)
    assert answers == [True]
    assert held.reads == 1  # one read served both callers


def test_a_failed_read_leaves_the_next_caller_free_to_read_again(
    store: MemoryStore, clock: FixedClock
) -> None:
    reads: list[int] = []

    def failing_once() -> InMemoryUnitOfWork:
        reads.append(1)
        if len(reads) == 2:
            raise ConnectionError("the database went away")
        return InMemoryUnitOfWork(store)

    cache = RevocationCache(
        failing_once, clock, lookback=timedelta(minutes=15), refresh_every=REFRESH
    )
    cache.is_revoked(COLLEGE, OTHER)
    clock.advance(REFRESH)
    with pytest.raises(ConnectionError):
        cache.is_revoked(COLLEGE, OTHER)

    assert not cache.is_current(COLLEGE)  # no reload is left claimed
    assert not cache.is_revoked(COLLEGE, OTHER)
    assert len(reads) == 3


def test_a_reload_claimed_without_waiting_lets_every_caller_meanwhile_answer_at_once(
    cache: RevocationCache, held: HeldStore, clock: FixedClock
) -> None:
    cache.is_revoked(COLLEGE, OTHER)  # the first load
    cache.add(COLLEGE, REVOKED)
    clock.advance(REFRESH)
    reads = held.reads

    assert cache.claim_reload(COLLEGE)  # an async caller, on its event loop
    assert not cache.claim_reload(COLLEGE)  # the next request does not read it too
    assert cache.is_current(COLLEGE)  # ... and answers from the list it has
    assert cache.is_revoked(COLLEGE, REVOKED, reload=False)
    assert held.reads == reads

    cache.reload_claimed(COLLEGE)  # the claimant, in its worker thread
    assert held.reads == reads + 1
    assert cache.is_current(COLLEGE)
    assert not cache.claim_reload(COLLEGE)  # fresh again: nothing to claim


def test_a_fresh_list_is_not_claimed_and_a_failed_claimed_read_is_released(
    store: MemoryStore, clock: FixedClock
) -> None:
    failing = [False]

    def uow() -> InMemoryUnitOfWork:
        if failing[0]:
            raise ConnectionError("the database went away")
        return InMemoryUnitOfWork(store)

    cache = RevocationCache(uow, clock, lookback=timedelta(minutes=15), refresh_every=REFRESH)
    cache.is_revoked(COLLEGE, OTHER)
    assert not cache.claim_reload(COLLEGE)

    clock.advance(REFRESH)
    assert cache.claim_reload(COLLEGE)
    failing[0] = True
    with pytest.raises(ConnectionError):
        cache.reload_claimed(COLLEGE)
    assert not cache.is_current(COLLEGE)  # nothing left claimed: the next caller reads
    failing[0] = False
    assert cache.claim_reload(COLLEGE)
