"""The append-only ledger file, its Merkle tree, proofs, checkpoints and audit."""
