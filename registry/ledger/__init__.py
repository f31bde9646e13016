"""The public, tamper-evident ledger."""
