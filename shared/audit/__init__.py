"""Tamper evidence: each stored event chained to its aggregate's previous one, and signed
checkpoints (a Merkle root over a service's log) that an auditor keeps and verifies against."""
