"""Published event contracts: names, fields, versions and JSON Schemas, one module per service."""

from shared.contracts.registry import (
    ContractSpec,
    EventContract,
    UnknownEventType,
    contract,
    registry,
)

__all__ = ["ContractSpec", "EventContract", "UnknownEventType", "contract", "registry"]

# Registering every service's contracts: importing the package is enough to know them all.
# They import the registry above, so these imports come after it.
import shared.contracts.assumptions
import shared.contracts.audit
import shared.contracts.deadlines
import shared.contracts.elicitation
import shared.contracts.notifications
import shared.contracts.ranking
import shared.contracts.suspects  # noqa: F401
