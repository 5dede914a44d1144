"""Typed errors of the pipeline; the CLI turns each into one line on stderr and a non-zero exit."""


class PipelineError(Exception):
    """Base of every error the pipeline reports to a user."""


class InputError(PipelineError):
    """Bad user input: a file, row, column or option that cannot be used as given."""


class ProofError(PipelineError):
    """A proof, key or circuit is malformed, mismatched or does not verify."""


class DeviceError(PipelineError):
    """The chosen device cannot do the work (too little GPU memory for a key, say); the line says what to use."""
