"""The notifications service: turns contract events into notices and reminders, sent once.

The path of a notice: elicitation's and ranking's events arrive on Kafka -> contract_view
keeps the service's own view and plans the notices by policy (planner) into the inbox, in the
view's transaction -> the dispatcher queues them (Notice aggregates, idempotent ids) -> the
ledger copies the service's own events into its tables -> the delivery worker sends what is
due (webhook, email, in-app) and records Delivered or Failed. Reminders are Reminder
aggregates, fired by the scheduler from the same tables.
"""
