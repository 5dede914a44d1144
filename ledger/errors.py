"""Typed errors of the ledger."""


class LedgerError(Exception):
    """Base of every ledger error: a damaged file, a bad proof, a lock that cannot be taken."""


class LedgerNotFoundError(LedgerError):
    """The ledger file does not exist (run `zkp-ledger init`)."""


class LedgerExistsError(LedgerError):
    """`create` was asked for a ledger that already exists."""


class LedgerCorruptError(LedgerError):
    """The ledger file is damaged: a bad checksum, a broken chain, an index gap, a non-canonical line."""


class LedgerLockError(LedgerError):
    """Another writer holds the ledger's exclusive lock longer than the timeout."""


class EntryNotFoundError(LedgerError):
    """A reference (index, entry id, NAME@VERSION) names no entry of the ledger."""


class RecordError(LedgerError):
    """A record given to `append` does not fit the entry schema."""


class ObjectStoreError(LedgerError):
    """An object of the content-addressed store is missing or does not match its hash."""


class ProofError(LedgerError):
    """A Merkle inclusion or consistency proof does not verify."""


class CheckpointError(LedgerError):
    """A signed checkpoint or key is malformed, has a bad signature, or contradicts the ledger."""


class UnknownSignerError(CheckpointError):
    """A signed note carries no signature by any of the keys it was checked with."""
