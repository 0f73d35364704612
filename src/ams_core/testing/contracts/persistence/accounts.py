"""Part of the persistence contract. Sign-ins, password credentials and operator sign-ins (platform
scope only).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import pytest

from ams_core.domain import (
    ConcurrencyError,
    ConflictError,
    FacultyId,
    NotFoundError,
    PasswordPolicy,
    PermissionDeniedError,
    PushPlatform,
    PushToken,
    SignInId,
    SignInMethod,
    StudentId,
)
from ams_core.ports import UnitOfWork, UnitOfWorkFactory
from ams_core.testing.builders import SmallCollege
from ams_core.testing.contracts.persistence._base import ContractHelpers
from ams_core.testing.contracts.persistence._builders import (
    _FAR_PAST,
    _GUEST,
    _HASH,
    _OPERATOR_SIGN_IN_CALLS,
    IST,
    T0,
    _domain,
    _operator,
    _password,
    _push,
    _sign_in,
)


class AccountContract(ContractHelpers):
    """Sign-ins, password credentials and operator sign-ins (platform scope only)."""

    # -- accounts ----------------------------------------------------------------------------
    def test_sign_ins_keep_every_field_with_the_email_in_one_spelling(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        full = _sign_in(
            college,
            "SI-FULL",
            " Ravi.Kumar@A.EDU ",
            created_at=datetime(2026, 11, 16, 9, 1, 2, 345678, tzinfo=IST),
            lifetime=timedelta(days=14, microseconds=1),
            method=SignInMethod.PASSWORD,
            device="phone-N210001",
            revoked_at=T0 + timedelta(hours=2),
            digest="ab" * 32,
        )
        bare = _sign_in(college, "SI-BARE", "alice@a.edu", method=SignInMethod.LOCAL)
        with uow_factory().for_institution(college.id) as uow:
            uow.sign_ins.add(full)
            uow.sign_ins.add(bare)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert uow.sign_ins.find(full.id) == dataclasses.replace(full, email="ravi.kumar@a.edu")
            assert uow.sign_ins.find(bare.id) == bare
            assert uow.sign_ins.find(SignInId("SI-MISSING")) is None

    def test_adding_an_existing_sign_in_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        first = _sign_in(college, "SI-1", "alice@a.edu")
        with uow_factory().for_institution(college.id) as uow:
            uow.sign_ins.add(first)
            with pytest.raises(ConflictError):
                uow.sign_ins.add(first)
        with uow_factory().for_institution(college.id) as uow:
            assert uow.sign_ins.find(first.id) is None  # not committed
            uow.sign_ins.add(first)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow, pytest.raises(ConflictError):
            uow.sign_ins.add(dataclasses.replace(first, email="bob@a.edu"))
        with uow_factory().for_institution(college.id) as uow:
            assert uow.sign_ins.find(first.id) == first

    def test_a_sign_in_update_bumps_the_version_and_refuses_a_stale_one(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        added = _sign_in(college, "SI-1", "alice@a.edu")
        with uow_factory().for_institution(college.id) as uow:
            uow.sign_ins.add(added)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            read_by_both = uow.sign_ins.find(added.id)
        assert read_by_both == added
        rotated_at = datetime(2026, 11, 16, 9, 5, 0, 250000, tzinfo=IST)
        rotated = read_by_both.rotated("1" * 64, T0 + timedelta(days=60), rotated_at)
        assert (rotated.previous_digest, rotated.rotated_at) == (added.refresh_digest, rotated_at)
        with uow_factory().for_institution(college.id) as uow:
            winner = uow.sign_ins.update(rotated)
            assert winner == dataclasses.replace(rotated, version=1)
            assert uow.sign_ins.find(added.id) == winner
            uow.commit()
        with uow_factory().for_institution(college.id) as uow, pytest.raises(ConcurrencyError):
            uow.sign_ins.update(read_by_both.rotated("2" * 64, T0 + timedelta(days=61), T0))
        with uow_factory().for_institution(college.id) as uow:
            assert uow.sign_ins.find(added.id) == winner
            ended = uow.sign_ins.update(winner.revoked(T0 + timedelta(hours=1)))
            assert (ended.version, ended.revoked_at) == (2, T0 + timedelta(hours=1))
            with pytest.raises(NotFoundError):
                uow.sign_ins.update(_sign_in(college, "SI-MISSING", "alice@a.edu"))
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert uow.sign_ins.find(added.id) == ended

    def test_revoke_all_ends_only_that_persons_active_sessions_and_counts_them(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, at = college, T0 + timedelta(days=1)
        email = c.students[0].email
        earlier = T0 + timedelta(hours=1)
        sign_ins = {
            "phone": _sign_in(c, "SI-PHONE", email, device="phone-N210001"),
            "laptop": _sign_in(c, "SI-LAPTOP", email.upper(), method=SignInMethod.PASSWORD),
            "expired": _sign_in(c, "SI-EXPIRED", email, lifetime=timedelta(hours=3)),
            "ends now": _sign_in(c, "SI-ENDS-NOW", email, lifetime=timedelta(days=1)),
            "revoked": _sign_in(c, "SI-REVOKED", email, revoked_at=earlier),
            "someone else": _sign_in(c, "SI-OTHER", c.students[1].email),
        }
        with uow_factory().for_institution(c.id) as uow:
            for sign_in in sign_ins.values():
                uow.sign_ins.add(sign_in)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.sign_ins.revoke_all(email.upper(), at) == 2
            # not committed: leaving the block puts them back
        with uow_factory().for_institution(c.id) as uow:
            assert uow.sign_ins.revoked_since(_FAR_PAST) == {SignInId("SI-REVOKED")}
            assert uow.sign_ins.revoke_all(f" {email} ", at) == 2
            assert uow.sign_ins.revoke_all(email, at + timedelta(seconds=1)) == 0
            assert uow.sign_ins.revoke_all("nobody@a.edu", at) == 0
            uow.commit()
        folded = {
            name: dataclasses.replace(s, email=s.email.lower()) for name, s in sign_ins.items()
        }
        with uow_factory().for_institution(c.id) as uow:
            found = {name: uow.sign_ins.find(s.id) for name, s in sign_ins.items()}
        ended = {
            name: dataclasses.replace(folded[name], revoked_at=at, version=1)
            for name in ("phone", "laptop")
        }
        assert found == {
            **folded,
            **ended,
        }

    def test_revoked_since_lists_the_sessions_revoked_at_or_after_an_instant(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, email = college, college.alice.email
        with uow_factory().for_institution(c.id) as uow:
            for n, revoked_at in enumerate(
                (T0 - timedelta(hours=1), T0, T0 + timedelta(microseconds=1), None)
            ):
                uow.sign_ins.add(_sign_in(c, f"SI-{n}", email, revoked_at=revoked_at))
            assert uow.sign_ins.revoked_since(T0) == {SignInId("SI-1"), SignInId("SI-2")}
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.sign_ins.revoked_since(T0.astimezone(IST)) == {
                SignInId("SI-1"),
                SignInId("SI-2"),
            }
            assert uow.sign_ins.revoked_since(T0 + timedelta(microseconds=2)) == frozenset()
            assert len(uow.sign_ins.revoked_since(_FAR_PAST)) == 3
            assert uow.sign_ins.revoke_all(email, T0 + timedelta(hours=5)) == 1
            assert uow.sign_ins.revoked_since(T0 + timedelta(hours=5)) == {SignInId("SI-3")}

    def test_a_password_is_inserted_at_version_zero_then_updated_optimistically(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, policy = college, PasswordPolicy(max_failures=2)
        rehashed = _HASH.replace("aGFzaA", "bmV3")
        given = _password(c, " Guest.User@A.EDU ")
        with uow_factory().for_institution(c.id) as uow:
            assert uow.passwords.find("guest.user@a.edu") is None
            stored = uow.passwords.put(given)
            assert stored == dataclasses.replace(given, email="guest.user@a.edu", version=0)
            assert uow.passwords.find("GUEST.user@a.edu") == stored
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            read_by_both = uow.passwords.find("guest.user@a.edu")
            assert read_by_both == stored
        assert read_by_both is not None
        with uow_factory().for_institution(c.id) as uow:
            once = uow.passwords.put(read_by_both.after_failure(T0, policy))
            assert (once.version, once.failed_attempts, once.locked_until) == (1, 1, None)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConcurrencyError):
            uow.passwords.put(read_by_both.after_success("$argon2id$new"))
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConcurrencyError):
            uow.passwords.put(_password(c, "guest.user@a.edu", "$argon2id$fresh"))  # version 0
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConcurrencyError):
            uow.passwords.put(dataclasses.replace(_password(c, "never@a.edu"), version=3))
        now = datetime(2026, 11, 16, 9, 5, 0, 250000, tzinfo=IST)
        with uow_factory().for_institution(c.id) as uow:
            assert uow.passwords.find("guest.user@a.edu") == once
            assert uow.passwords.find("never@a.edu") is None
            locked = uow.passwords.put(once.after_failure(now, policy))
            assert locked == dataclasses.replace(
                once, failed_attempts=0, locked_until=now + policy.lockout, version=2
            )
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.passwords.find("guest.user@a.edu") == locked
            assert locked.is_locked(now)
            cleared = uow.passwords.put(locked.after_success(rehashed))
            assert cleared.version == 3
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            found = uow.passwords.find("guest.user@a.edu")
            assert found == cleared
            assert found == dataclasses.replace(stored, password_hash=rehashed, version=3)

    def test_removing_a_password_forgets_it_and_frees_the_email(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        with uow_factory().for_institution(c.id) as uow:
            uow.passwords.put(_password(c, "guest@a.edu"))
            uow.passwords.put(_password(c, "other@a.edu"))
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.passwords.remove("GUEST@a.edu")
            assert uow.passwords.find("guest@a.edu") is None
            assert not uow.passwords.remove("guest@a.edu")
            assert not uow.passwords.remove("never@a.edu")
        with uow_factory().for_institution(c.id) as uow:
            assert uow.passwords.find("guest@a.edu") is not None  # not committed
            assert uow.passwords.remove("guest@a.edu")
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.passwords.find("guest@a.edu") is None
            assert uow.passwords.find("other@a.edu") == _password(c, "other@a.edu")
            again = uow.passwords.put(_password(c, "guest@a.edu", "$argon2id$again"))
            assert again.version == 0
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.passwords.find("guest@a.edu") == again

    def test_push_tokens_are_found_by_student_and_by_teacher_and_removed(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        s0, s1, s2 = c.students[:3]
        long_token = "fcm:" + "x" * 4092
        registered = {
            "s0 phone": _push(c, "tok-s0-phone", student=s0),
            "s0 web": _push(c, long_token, student=s0, platform=PushPlatform.WEB),
            "s1": _push(c, "tok-s1", student=s1, platform=PushPlatform.IOS),
            "alice": _push(c, "tok-alice", faculty=c.alice, at=T0.astimezone(IST)),
            "bob": _push(c, "tok-bob", faculty=c.bob),
        }
        shouting = dataclasses.replace(_push(c, "tok-s2", student=s2), owner_email=s2.email.upper())
        with uow_factory().for_institution(c.id) as uow:
            for token in registered.values():
                uow.push_tokens.put(token)
            uow.push_tokens.put(shouting)
            uow.commit()

        def tokens(found: Sequence[PushToken]) -> set[str]:
            return {t.token for t in found}

        with uow_factory().for_institution(c.id) as uow:
            assert sorted(uow.push_tokens.for_students([s0.id]), key=lambda t: t.token) == sorted(
                [registered["s0 phone"], registered["s0 web"]], key=lambda t: t.token
            )
            assert tokens(uow.push_tokens.for_students([s0.id, s1.id, StudentId("N0")])) == {
                "tok-s0-phone",
                long_token,
                "tok-s1",
            }
            assert list(uow.push_tokens.for_students([s2.id])) == [
                dataclasses.replace(shouting, owner_email=s2.email)
            ]
            assert list(uow.push_tokens.for_students([])) == []
            assert list(uow.push_tokens.for_faculty([c.alice.id])) == [registered["alice"]]
            assert tokens(uow.push_tokens.for_faculty([c.alice.id, c.bob.id])) == {
                "tok-alice",
                "tok-bob",
            }
            assert list(uow.push_tokens.for_faculty([])) == []
            assert uow.push_tokens.remove(long_token)
            assert not uow.push_tokens.remove(long_token)
            assert not uow.push_tokens.remove("tok-never")
            assert uow.push_tokens.remove("tok-bob")
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.push_tokens.for_students([s0.id])) == [registered["s0 phone"]]
            assert list(uow.push_tokens.for_faculty([c.bob.id])) == []

    def test_a_push_token_belongs_to_whoever_registered_it_last(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        s0, s1 = c.students[:2]
        first = _push(c, "tok-shared-phone", student=s0)
        with uow_factory().for_institution(c.id) as uow:
            uow.push_tokens.put(first)
            uow.commit()
        by_teacher = _push(
            c, first.token, faculty=c.alice, platform=PushPlatform.IOS, at=T0 + timedelta(days=1)
        )
        with uow_factory().for_institution(c.id) as uow:
            uow.push_tokens.put(by_teacher)
            assert list(uow.push_tokens.for_students([s0.id])) == []
            assert list(uow.push_tokens.for_faculty([c.alice.id])) == [by_teacher]
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.push_tokens.for_students([s0.id])) == []
            assert list(uow.push_tokens.for_faculty([c.alice.id])) == [by_teacher]
        by_both = dataclasses.replace(
            _push(c, first.token, student=s1, at=T0 + timedelta(days=2)), faculty_id=c.bob.id
        )
        with uow_factory().for_institution(c.id) as uow:
            uow.push_tokens.put(by_both)
            uow.push_tokens.put(by_both)  # the same registration again changes nothing
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.push_tokens.for_faculty([c.alice.id])) == []
            assert list(uow.push_tokens.for_students([s0.id, s1.id])) == [by_both]
            assert list(uow.push_tokens.for_faculty([c.alice.id, c.bob.id])) == [by_both]
            assert uow.push_tokens.remove(first.token)
            uow.push_tokens.put(first)
            # not committed
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.push_tokens.for_students([s0.id, s1.id])) == [by_both]

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_never_sees_another_tenants_sign_ins_passwords_or_push_tokens(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine, theirs = tenants[me], tenants[other]
        their_person = f"n{other.lower()}0001@{_domain(theirs)}"
        their_teacher = f"f{other.lower()}@{_domain(theirs)}"
        s0, s1 = mine.students[0], mine.students[1]
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.sign_ins.find(SignInId(f"SI-{other}")) is None
            assert uow.sign_ins.find(SignInId(f"SI-{other}-OLD")) is None
            shared = uow.sign_ins.find(SignInId("SI-SHARED"))
            assert shared is not None
            assert (shared.institution_id, shared.email) == (mine.id, s0.email)
            assert shared.device_id == f"device-{me}-0001"
            assert uow.sign_ins.revoked_since(_FAR_PAST) == {SignInId(f"SI-{me}-OLD")}
            assert uow.sign_ins.revoke_all(their_person, T0) == 0
            with pytest.raises(NotFoundError):
                uow.sign_ins.update(_sign_in(mine, f"SI-{other}", their_person))
            guest = uow.passwords.find(_GUEST)
            assert guest is not None
            assert (guest.institution_id, guest.password_hash) == (mine.id, f"hash-{me}")
            assert uow.passwords.find(their_teacher) is None
            assert not uow.passwords.remove(their_teacher)
            assert list(uow.push_tokens.for_students([s0.id])) == [
                _push(mine, "tok-SHARED", student=s0)
            ]
            assert list(uow.push_tokens.for_faculty([FacultyId(f"F{other}")])) == []
            assert not uow.push_tokens.remove(f"tok-{other}")
            uow.push_tokens.put(_push(mine, "tok-SHARED", student=s1))
            uow.commit()
        with uow_factory().for_institution(theirs.id) as uow:
            assert uow.sign_ins.revoked_since(_FAR_PAST) == {SignInId(f"SI-{other}-OLD")}
            theirs_active = uow.sign_ins.find(SignInId(f"SI-{other}"))
            assert theirs_active is not None
            assert theirs_active.revoked_at is None
            assert uow.passwords.find(their_teacher) is not None
            assert [t.token for t in uow.push_tokens.for_faculty([FacultyId(f"F{other}")])] == [
                f"tok-{other}"
            ]
            assert list(uow.push_tokens.for_students([theirs.students[0].id])) == [
                _push(theirs, "tok-SHARED", student=theirs.students[0])
            ]
            assert list(uow.push_tokens.for_students([theirs.students[1].id])) == []

    # -- operator sign-ins (platform scope only) ---------------------------------------------
    def test_operator_sign_ins_keep_every_field(self, uow_factory: UnitOfWorkFactory) -> None:
        full = _operator(
            "OP-FULL",
            " Ops.Lead@AMS.Example ",
            issued_at=datetime(2026, 11, 16, 9, 1, 2, 345678, tzinfo=IST),
            lifetime=timedelta(minutes=15, microseconds=1),
            revoked_at=T0 + timedelta(minutes=3, microseconds=7),
        )
        bare = _operator("OP-BARE")
        assert full.email == "ops.lead@ams.example"
        with uow_factory().for_platform() as uow:
            uow.operator_sign_ins.add(full)
            uow.operator_sign_ins.add(bare)
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert uow.operator_sign_ins.find(full.id) == full
            assert uow.operator_sign_ins.find(bare.id) == bare
            assert uow.operator_sign_ins.find(SignInId("OP-MISSING")) is None

    def test_adding_an_existing_operator_sign_in_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        first = _operator("OP-1")
        with uow_factory().for_platform() as uow:
            uow.operator_sign_ins.add(first)
            with pytest.raises(ConflictError):
                uow.operator_sign_ins.add(first)
        with uow_factory().for_platform() as uow:
            assert uow.operator_sign_ins.find(first.id) is None  # not committed
            uow.operator_sign_ins.add(first)
            uow.commit()
        with uow_factory().for_platform() as uow, pytest.raises(ConflictError):
            uow.operator_sign_ins.add(dataclasses.replace(first, email="other@ams.example"))
        with uow_factory().for_platform() as uow:
            assert uow.operator_sign_ins.find(first.id) == first

    def test_active_operator_sign_ins_are_listed_oldest_first_and_revoked_one_at_a_time(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        at = T0 + timedelta(minutes=10)
        rows = {
            "later": _operator("OP-LATER", issued_at=T0 + timedelta(minutes=5)),
            "b": _operator("OP-B"),
            "a": _operator("OP-A", "other@ams.example"),
            "expired": _operator("OP-EXPIRED", issued_at=T0 - timedelta(hours=1)),
            "ends now": _operator("OP-ENDS-NOW", lifetime=timedelta(minutes=10)),
            "revoked": _operator("OP-REVOKED", revoked_at=T0 + timedelta(minutes=1)),
        }
        with uow_factory().for_platform() as uow:
            for sign_in in rows.values():
                uow.operator_sign_ins.add(sign_in)
            uow.commit()
        with uow_factory().for_platform() as uow:
            active = [rows["a"], rows["b"], rows["later"]]
            assert list(uow.operator_sign_ins.list_active(at)) == active
            assert list(uow.operator_sign_ins.list_active(at.astimezone(IST))) == active
            assert uow.operator_sign_ins.revoke(SignInId("OP-B"), at)
            # not committed: leaving the block puts it back
        with uow_factory().for_platform() as uow:
            assert uow.operator_sign_ins.find(SignInId("OP-B")) == rows["b"]
            assert uow.operator_sign_ins.revoke(SignInId("OP-B"), at)
            assert not uow.operator_sign_ins.revoke(SignInId("OP-B"), at + timedelta(seconds=1))
            for inactive in ("OP-EXPIRED", "OP-ENDS-NOW", "OP-REVOKED", "OP-MISSING"):
                assert not uow.operator_sign_ins.revoke(SignInId(inactive), at), inactive
            assert list(uow.operator_sign_ins.list_active(at)) == [rows["a"], rows["later"]]
            uow.commit()
        with uow_factory().for_platform() as uow:
            found = {name: uow.operator_sign_ins.find(s.id) for name, s in rows.items()}
        assert found == {**rows, "b": dataclasses.replace(rows["b"], revoked_at=at)}

    def test_revoke_all_ends_every_active_operator_sign_in_and_counts_them(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        at = T0 + timedelta(minutes=10)
        rows = {
            "one": _operator("OP-1"),
            "two": _operator("OP-2", "other@ams.example"),
            "expired": _operator("OP-EXPIRED", lifetime=timedelta(minutes=5)),
            "revoked": _operator("OP-REVOKED", revoked_at=T0 + timedelta(minutes=1)),
        }
        with uow_factory().for_platform() as uow:
            for sign_in in rows.values():
                uow.operator_sign_ins.add(sign_in)
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert uow.operator_sign_ins.revoke_all(at) == 2
            # not committed
        with uow_factory().for_platform() as uow:
            assert uow.operator_sign_ins.revoked_since(_FAR_PAST) == {SignInId("OP-REVOKED")}
            assert uow.operator_sign_ins.revoke_all(at) == 2
            assert uow.operator_sign_ins.revoke_all(at + timedelta(seconds=1)) == 0
            assert list(uow.operator_sign_ins.list_active(at)) == []
            uow.commit()
        with uow_factory().for_platform() as uow:
            found = {name: uow.operator_sign_ins.find(s.id) for name, s in rows.items()}
        ended = {name: dataclasses.replace(rows[name], revoked_at=at) for name in ("one", "two")}
        assert found == {**rows, **ended}

    def test_revoked_since_lists_the_operator_sign_ins_revoked_at_or_after_an_instant(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        issued, lifetime = T0 - timedelta(hours=2), timedelta(hours=3)
        with uow_factory().for_platform() as uow:
            for n, revoked_at in enumerate(
                (T0 - timedelta(hours=1), T0, T0 + timedelta(microseconds=1), None)
            ):
                uow.operator_sign_ins.add(
                    _operator(f"OP-{n}", issued_at=issued, lifetime=lifetime, revoked_at=revoked_at)
                )
            assert uow.operator_sign_ins.revoked_since(T0) == {SignInId("OP-1"), SignInId("OP-2")}
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert uow.operator_sign_ins.revoked_since(T0.astimezone(IST)) == {
                SignInId("OP-1"),
                SignInId("OP-2"),
            }
            assert uow.operator_sign_ins.revoked_since(T0 + timedelta(microseconds=2)) == set()
            assert len(uow.operator_sign_ins.revoked_since(_FAR_PAST)) == 3
            assert uow.operator_sign_ins.revoke_all(T0 + timedelta(minutes=5)) == 1
            assert uow.operator_sign_ins.revoked_since(T0 + timedelta(minutes=5)) == {
                SignInId("OP-3")
            }

    @pytest.mark.parametrize("call", [pytest.param(c, id=n) for n, c in _OPERATOR_SIGN_IN_CALLS])
    def test_operator_sign_ins_are_refused_inside_an_institution(
        self,
        uow_factory: UnitOfWorkFactory,
        college: SmallCollege,
        call: Callable[[UnitOfWork], object],
    ) -> None:
        stored = _operator("OP-1")
        with uow_factory().for_platform() as uow:
            uow.operator_sign_ins.add(stored)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            with pytest.raises(PermissionDeniedError) as refused:
                call(uow)
            assert refused.value.code == "platform_required"
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert list(uow.operator_sign_ins.list_active(T0)) == [stored]
            assert uow.operator_sign_ins.find(SignInId("OP-NEW")) is None
            assert uow.operator_sign_ins.revoked_since(_FAR_PAST) == frozenset()
