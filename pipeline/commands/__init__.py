"""Subcommands of `zkp-ledger`: each module has `register(subparsers, common)`.

`common` is an argparse parent parser holding the options every command takes
(`--ledger`, `--json`); a module adds its subparsers with `parents=[common]` and sets
`func=handler`, where `handler(args) -> int` returns the exit status.
"""

# Order is the order of `zkp-ledger --help`.
COMMAND_MODULES = [
    "pipeline.commands.ledger_commands",
    "pipeline.commands.proof_commands",
    "pipeline.commands.snarkjs_commands",
    "pipeline.commands.batch_commands",
    "pipeline.commands.ceremony_commands",
    "pipeline.commands.bench_commands",
]
