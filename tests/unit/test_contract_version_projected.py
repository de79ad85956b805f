"""Every event stored on a contract's stream moves the contract's version in the read model:
the version a client reads is the one its next `expectedVersion` must name. Before, a
deadline policy or an auditor's nomination left it one behind, and every command sent with it
was refused as a conflict, again after each reload."""

from __future__ import annotations

import inspect

from eventsourcing.domain import CanMutateAggregate

from services.elicitation.contract import Contract
from services.gateway.projections import contracts


def test_the_read_model_applies_every_event_of_the_contract_stream() -> None:
    recorded = {
        name
        for name, value in vars(Contract).items()
        if inspect.isclass(value)
        and issubclass(value, CanMutateAggregate)
        and name not in ("Event", "Created")  # the library's bases, not events of their own
    }
    assert recorded  # the aggregate's events were found at all
    assert recorded <= set(contracts.apply.handlers), recorded - set(contracts.apply.handlers)
