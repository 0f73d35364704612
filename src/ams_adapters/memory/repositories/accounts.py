"""Sign-ins, operator sign-ins and password credentials."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from ams_adapters.memory.repositories._base import KeyedRepository, MemoryRepository
from ams_core.domain import (
    ConcurrencyError,
    ConflictError,
    OperatorSignIn,
    PasswordCredential,
    PasswordPolicy,
    SignIn,
    SignInId,
)
from ams_core.domain.people import fold_email
from ams_core.ports import OperatorSignInRepository, PasswordCredentialRepository, SignInRepository


class InMemorySignInRepository(KeyedRepository[SignInId, SignIn], SignInRepository):
    """Sign-ins keyed by id, indexed by (folded) email for ``revoke_all``."""

    kind = "sign_in"

    def _table(self) -> dict[SignInId, SignIn]:
        return self._data.sign_ins

    def _key(self, entity: SignIn) -> SignInId:
        return entity.id

    def _reindex(self, old: SignIn | None, new: SignIn) -> None:
        self._index_move(
            self._data.sign_ins_by_email, old.email if old else None, new.email, new.id
        )

    def add(self, sign_in: SignIn) -> None:
        super().add(dataclasses.replace(sign_in, email=fold_email(sign_in.email)))

    def update(self, sign_in: SignIn) -> SignIn:
        return super().update(dataclasses.replace(sign_in, email=fold_email(sign_in.email)))

    def revoke_all(self, email: str, at: datetime) -> int:
        data, log = self._data, self._log
        revoked = 0
        for sign_in_id in sorted(data.sign_ins_by_email.get(fold_email(email), ())):
            sign_in = data.sign_ins[sign_in_id]
            if sign_in.is_active(at):
                ended = dataclasses.replace(sign_in, revoked_at=at, version=sign_in.version + 1)
                log.set(data.sign_ins, sign_in_id, ended)
                revoked += 1
        return revoked

    def revoked_since(self, since: datetime) -> frozenset[SignInId]:
        return frozenset(
            sign_in.id
            for sign_in in self._data.sign_ins.values()
            if sign_in.revoked_at is not None and sign_in.revoked_at >= since
        )


class InMemoryOperatorSignInRepository(MemoryRepository, OperatorSignInRepository):
    """Platform operators' tokens, keyed by id; platform scope only."""

    @property
    def _table(self) -> dict[SignInId, OperatorSignIn]:
        self._tx.require_platform()
        return self._store.operator_sign_ins

    def add(self, sign_in: OperatorSignIn) -> None:
        table = self._table
        if sign_in.id in table:
            raise ConflictError(
                f"operator sign-in {sign_in.id} already exists", code="operator_sign_in_exists"
            )
        self._log.set(table, sign_in.id, sign_in)

    def find(self, sign_in_id: SignInId) -> OperatorSignIn | None:
        return self._table.get(sign_in_id)

    def list_active(self, at: datetime) -> Sequence[OperatorSignIn]:
        active = (s for s in self._table.values() if s.is_active(at))
        return sorted(active, key=lambda s: (s.issued_at, s.id))

    def revoke(self, sign_in_id: SignInId, at: datetime) -> bool:
        table = self._table
        sign_in = table.get(sign_in_id)
        if sign_in is None or not sign_in.is_active(at):
            return False
        self._log.set(table, sign_in_id, sign_in.revoked(at))
        return True

    def revoke_all(self, at: datetime) -> int:
        return sum(self.revoke(sign_in_id, at) for sign_in_id in sorted(self._table))

    def revoked_since(self, since: datetime) -> frozenset[SignInId]:
        return frozenset(
            s.id for s in self._table.values() if s.revoked_at is not None and s.revoked_at >= since
        )


class InMemoryPasswordCredentialRepository(MemoryRepository, PasswordCredentialRepository):
    """One credential per folded email."""

    def find(self, email: str) -> PasswordCredential | None:
        return self._data.passwords.get(fold_email(email))

    def put(self, credential: PasswordCredential) -> PasswordCredential:
        self._own(credential)
        data = self._data
        email = fold_email(credential.email)
        stored = data.passwords.get(email)
        if (0 if stored is None else stored.version) != credential.version:
            raise ConcurrencyError(f"the password of {email} was changed by someone else")
        version = 0 if stored is None else credential.version + 1
        new = dataclasses.replace(credential, email=email, version=version)
        self._log.set(data.passwords, email, new)
        return new

    def record_failure(
        self, email: str, at: datetime, policy: PasswordPolicy
    ) -> PasswordCredential | None:
        stored = self.find(email)
        if stored is None:
            return None
        return self._store_changed(stored, stored.after_failure(at, policy))

    def record_success(self, email: str, at: datetime, password_hash: str | None = None) -> bool:
        stored = self.find(email)
        if stored is None or stored.is_locked(at):
            return False
        self._store_changed(stored, stored.after_success(password_hash))
        return True

    def _store_changed(
        self, stored: PasswordCredential, changed: PasswordCredential
    ) -> PasswordCredential:
        if changed == stored:
            return stored
        new = dataclasses.replace(changed, version=stored.version + 1)
        self._log.set(self._data.passwords, stored.email, new)
        return new

    def remove(self, email: str) -> bool:
        data, key = self._data, fold_email(email)
        if key not in data.passwords:
            return False
        self._log.delete(data.passwords, key)
        return True
