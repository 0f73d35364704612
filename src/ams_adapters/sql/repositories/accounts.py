"""Accounts: sign-ins (refresh tokens), platform operators' sign-ins and passwords."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, bindparam, case, delete, func, select, update
from sqlalchemy.sql.expression import BindParameter

from ams_adapters.sql import mappers as m
from ams_adapters.sql import tables as t
from ams_adapters.sql.repositories._base import (
    INSTITUTION_ID,
    KeyedTableRepository,
    SqlRepository,
    prebuilt,
)
from ams_core.domain import (
    ConcurrencyError,
    OperatorSignIn,
    PasswordCredential,
    PasswordPolicy,
    SignIn,
    SignInId,
)
from ams_core.domain.people import fold_email
from ams_core.ports import (
    OperatorSignInRepository,
    PasswordCredentialRepository,
    SignInRepository,
)

SIGN_INS = t.sign_ins.c
#: the ``:at`` parameter: the instant a statement is about
_AT: BindParameter[datetime] = bindparam("at", type_=t.Instant)


class SqlSignInRepository(KeyedTableRepository[SignInId, SignIn], SignInRepository):
    table, key, kind = t.sign_ins, "id", "sign_in"
    to_row, from_row = staticmethod(m.sign_in_row), staticmethod(m.sign_in_from)

    def update(self, sign_in: SignIn) -> SignIn:
        return super().update(dataclasses.replace(sign_in, email=fold_email(sign_in.email)))

    def revoke_all(self, email: str, at: datetime) -> int:
        stmt = prebuilt(
            ("sign_ins", "revoke all"),
            lambda: (
                update(t.sign_ins)
                .where(
                    SIGN_INS.institution_id == INSTITUTION_ID,
                    SIGN_INS.email == bindparam("b_email"),
                    SIGN_INS.revoked_at.is_(None),
                    SIGN_INS.expires_at > _AT,
                )
                .values(revoked_at=_AT, version=SIGN_INS.version + 1)
            ),
        )
        params = {"iid": self._institution_id(), "b_email": fold_email(email), "at": at}
        return int(self._transaction.execute(stmt, params, kind=self.kind).rowcount)

    def revoked_since(self, since: datetime) -> frozenset[SignInId]:
        stmt = prebuilt(
            ("sign_ins", "revoked since"),
            lambda: select(SIGN_INS.id).where(
                SIGN_INS.institution_id == INSTITUTION_ID,
                SIGN_INS.revoked_at >= bindparam("since", type_=t.Instant),
            ),
        )
        rows = self._transaction.execute(stmt, {"iid": self._institution_id(), "since": since})
        return frozenset(SignInId(r[0]) for r in rows)


OPERATOR_SIGN_INS = t.operator_sign_ins.c
#: an operator sign-in active at the ``at`` parameter
_OPERATOR_ACTIVE = and_(OPERATOR_SIGN_INS.revoked_at.is_(None), OPERATOR_SIGN_INS.expires_at > _AT)


class SqlOperatorSignInRepository(SqlRepository, OperatorSignInRepository):
    """Platform operators' tokens: platform scope only (the table's policy agrees)."""

    kind = "operator_sign_in"

    def _execute(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        self._transaction.require_platform()
        return self._transaction.execute(statement, parameters, kind=self.kind)

    def add(self, sign_in: OperatorSignIn) -> None:
        self._execute(t.operator_sign_ins.insert().values(m.operator_sign_in_row(sign_in)))

    def find(self, sign_in_id: SignInId) -> OperatorSignIn | None:
        stmt = prebuilt(
            ("operator_sign_ins", "find"),
            lambda: select(t.operator_sign_ins).where(OPERATOR_SIGN_INS.id == bindparam("sid")),
        )
        row = self._execute(stmt, {"sid": sign_in_id}).mappings().first()
        return None if row is None else m.operator_sign_in_from(row)

    def list_active(self, at: datetime) -> Sequence[OperatorSignIn]:
        stmt = prebuilt(
            ("operator_sign_ins", "active"),
            lambda: (
                select(t.operator_sign_ins)
                .where(_OPERATOR_ACTIVE)
                .order_by(OPERATOR_SIGN_INS.issued_at, OPERATOR_SIGN_INS.id)
            ),
        )
        rows = self._execute(stmt, {"at": at}).mappings().all()
        return [m.operator_sign_in_from(r) for r in rows]

    def revoke(self, sign_in_id: SignInId, at: datetime) -> bool:
        stmt = prebuilt(
            ("operator_sign_ins", "revoke"),
            lambda: (
                update(t.operator_sign_ins)
                .where(OPERATOR_SIGN_INS.id == bindparam("sid"), _OPERATOR_ACTIVE)
                .values(revoked_at=_AT)
            ),
        )
        return bool(self._execute(stmt, {"sid": sign_in_id, "at": at}).rowcount > 0)

    def revoke_all(self, at: datetime) -> int:
        stmt = prebuilt(
            ("operator_sign_ins", "revoke all"),
            lambda: update(t.operator_sign_ins).where(_OPERATOR_ACTIVE).values(revoked_at=_AT),
        )
        return int(self._execute(stmt, {"at": at}).rowcount)

    def revoked_since(self, since: datetime) -> frozenset[SignInId]:
        stmt = prebuilt(
            ("operator_sign_ins", "revoked since"),
            lambda: select(OPERATOR_SIGN_INS.id).where(
                OPERATOR_SIGN_INS.revoked_at >= bindparam("since", type_=t.Instant)
            ),
        )
        return frozenset(SignInId(r[0]) for r in self._execute(stmt, {"since": since}))


PASSWORDS = t.password_credentials.c
#: the columns a credential's update writes (besides its version)
_PASSWORD_FIELDS = ("password_hash", "failed_attempts", "locked_until")
#: the credential is locked at the ``at`` parameter
_PASSWORD_LOCKED = and_(PASSWORDS.locked_until.is_not(None), PASSWORDS.locked_until > _AT)


class SqlPasswordCredentialRepository(SqlRepository, PasswordCredentialRepository):
    def find(self, email: str) -> PasswordCredential | None:
        stmt = prebuilt(
            ("password_credentials", "find"),
            lambda: select(t.password_credentials).where(
                PASSWORDS.institution_id == INSTITUTION_ID, PASSWORDS.email == bindparam("email")
            ),
        )
        params = {"iid": self._institution_id(), "email": fold_email(email)}
        row = self._transaction.execute(stmt, params).mappings().first()
        return None if row is None else m.password_from(row)

    def put(self, credential: PasswordCredential) -> PasswordCredential:
        self._check_owned(credential)
        row = m.password_row(credential)
        stored = dataclasses.replace(credential, email=row["email"])
        stmt = prebuilt(
            ("password_credentials", "update"),
            lambda: (
                update(t.password_credentials)
                .where(
                    PASSWORDS.institution_id == bindparam("b_iid"),
                    PASSWORDS.email == bindparam("b_email"),
                    PASSWORDS.version == bindparam("b_version"),
                )
                .values(
                    {c: bindparam(f"v_{c}") for c in _PASSWORD_FIELDS}
                    | {"version": PASSWORDS.version + 1}
                )
            ),
        )
        params = {f"v_{c}": row[c] for c in _PASSWORD_FIELDS}
        params.update(
            b_iid=self._institution_id(), b_email=row["email"], b_version=credential.version
        )
        if self._transaction.execute(stmt, params, kind="password").rowcount:
            return dataclasses.replace(stored, version=credential.version + 1)
        if credential.version == 0:
            insert = prebuilt(
                ("password_credentials", "insert", self._dialect),
                lambda: (
                    self._insert(t.password_credentials)
                    .on_conflict_do_nothing(index_elements=["institution_id", "email"])
                    .returning(PASSWORDS.version)
                ),
            )
            # RETURNING tells whether the row went in (rowcount of INSERT is not reliable)
            if self._transaction.execute(insert, row, kind="password").first() is not None:
                return stored
        raise ConcurrencyError(f"the password of {row['email']} was changed by someone else")

    def record_failure(
        self, email: str, at: datetime, policy: PasswordPolicy
    ) -> PasswordCredential | None:
        # one UPDATE: the row lock serialises racing failures and each sees the count the
        # previous one left (PasswordCredential.after_failure, written in SQL); a locked
        # credential is not written at all
        stmt = prebuilt(
            ("password_credentials", "record failure"),
            lambda: (
                update(t.password_credentials)
                .where(
                    PASSWORDS.institution_id == INSTITUTION_ID,
                    PASSWORDS.email == bindparam("b_email"),
                    ~_PASSWORD_LOCKED,
                )
                .values(
                    failed_attempts=case(
                        (PASSWORDS.failed_attempts + 1 >= bindparam("b_max"), 0),
                        else_=PASSWORDS.failed_attempts + 1,
                    ),
                    locked_until=case(
                        (
                            PASSWORDS.failed_attempts + 1 >= bindparam("b_max"),
                            bindparam("b_until", type_=t.Instant),
                        ),
                        else_=PASSWORDS.locked_until,
                    ),
                    version=PASSWORDS.version + 1,
                )
                .returning(*t.password_credentials.c)
            ),
        )
        params = {
            "iid": self._institution_id(),
            "b_email": fold_email(email),
            "at": at,
            "b_max": policy.max_failures,
            "b_until": at + policy.lockout,
        }
        row = self._transaction.execute(stmt, params, kind="password").mappings().first()
        return self.find(email) if row is None else m.password_from(row)

    def record_success(self, email: str, at: datetime, password_hash: str | None = None) -> bool:
        stmt = prebuilt(
            ("password_credentials", "record success"),
            lambda: (
                update(t.password_credentials)
                .where(
                    PASSWORDS.institution_id == INSTITUTION_ID,
                    PASSWORDS.email == bindparam("b_email"),
                    ~_PASSWORD_LOCKED,
                )
                .values(
                    failed_attempts=0,
                    locked_until=None,
                    password_hash=func.coalesce(
                        bindparam("b_hash", type_=String()), PASSWORDS.password_hash
                    ),
                    version=PASSWORDS.version + 1,
                )
            ),
        )
        params = {
            "iid": self._institution_id(),
            "b_email": fold_email(email),
            "at": at,
            "b_hash": password_hash,
        }
        return bool(self._transaction.execute(stmt, params, kind="password").rowcount)

    def remove(self, email: str) -> bool:
        stmt = prebuilt(
            ("password_credentials", "remove"),
            lambda: delete(t.password_credentials).where(
                PASSWORDS.institution_id == INSTITUTION_ID, PASSWORDS.email == bindparam("email")
            ),
        )
        params = {"iid": self._institution_id(), "email": fold_email(email)}
        result = self._transaction.execute(stmt, params)
        return bool(result.rowcount > 0)
