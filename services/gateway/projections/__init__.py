"""The gateway's read models, one module per area, each applying the events it cares about."""
