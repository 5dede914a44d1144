"""Typed errors of the ledger."""


class LedgerError(Exception):
    """Base of every ledger error: a damaged file, a bad proof, a lock that cannot be taken."""
