"""The ranking application: one method per command on prioritization sessions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, Recording

from services.ranking.domain import Prioritization
from services.ranking.result import Method
from services.ranking.session_errors import (
    SessionStoredMeanwhile,
    UnknownPrioritization,
    VersionConflict,
)
from shared.commands.result import CommandResult, command_result
from shared.eventstore import AccordApplication


class Prioritizations(AccordApplication):
    """Prioritization sessions, each turning a contract's votes into its corporate ranking."""

    name = "ranking"

    def open_prioritization(
        self,
        contract_id: UUID,
        expectations: list[str],
        voters: list[str],
        method: Method,
        opened_by: str,
        dots: int | None = None,
        closes_at: datetime | None = None,
    ) -> CommandResult:
        session = Prioritization.open(
            contract_id, expectations, voters, method, opened_by, dots, closes_at
        )
        return command_result(session.id, session.version, self._save(session))

    def cast_vote(
        self,
        session_id: UUID,
        voter: str,
        ballot: dict[str, Any],
        expected_version: int | None = None,
        now: datetime | None = None,
    ) -> CommandResult:
        session = self.session(session_id, expected_version)
        session.cast(voter, ballot, now or datetime.now(UTC))
        return command_result(session.id, session.version, self._save(session))

    def withdraw_vote(
        self,
        session_id: UUID,
        voter: str,
        expected_version: int | None = None,
        now: datetime | None = None,
    ) -> CommandResult:
        session = self.session(session_id, expected_version)
        session.withdraw(voter, now or datetime.now(UTC))
        return command_result(session.id, session.version, self._save(session))

    def close_prioritization(
        self,
        session_id: UUID,
        closed_by: str,
        advice: dict[str, list[str]] | None = None,
        expected_version: int | None = None,
    ) -> CommandResult:
        session = self.session(session_id, expected_version)
        session.close(closed_by, advice or {})
        return command_result(session.id, session.version, self._save(session))

    def _save(self, session: Prioritization) -> list[Recording[UUID]]:
        """Store the session's new events; a concurrent change to the same version is CONFLICT."""
        try:
            return self.save(session)
        except IntegrityError:
            raise SessionStoredMeanwhile(session.id, session.version, session.version + 1) from None

    def session(self, session_id: UUID, expected_version: int | None = None) -> Prioritization:
        """The session, refusing a command based on a version that is no longer the latest."""
        try:
            session: Prioritization = self.repository.get(session_id)
        except AggregateNotFoundError:
            raise UnknownPrioritization(session_id) from None
        if expected_version is not None and expected_version != session.version:
            raise VersionConflict(session_id, expected_version, session.version)
        return session
