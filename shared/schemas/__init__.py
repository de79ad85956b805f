"""Published event contracts: names, fields, versions and JSON Schemas, one module per service."""

from shared.schemas.registry import (
    ContractSpec,
    EventContract,
    UnknownEventType,
    contract,
    registry,
)

__all__ = ["ContractSpec", "EventContract", "UnknownEventType", "contract", "registry"]

# Registering every service's contracts: importing the package is enough to know them all.
# They import the registry above, so these imports come after it.
import shared.schemas.assumptions
import shared.schemas.audit
import shared.schemas.deadlines
import shared.schemas.elicitation
import shared.schemas.notifications
import shared.schemas.ranking
import shared.schemas.suspects  # noqa: F401
