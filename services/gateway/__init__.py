"""The gateway: one GraphQL API over every service's read models and commands."""

# The commands' enums, described, before any GraphQL type that uses one is made.
from services.gateway import command_enums as command_enums
