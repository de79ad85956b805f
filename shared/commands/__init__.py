"""The commands each service takes, declared once: the service's route, the gateway's mutation
and its input type, and the documentation all follow from these declarations."""
