"""A batch run: inputs found and planned, the ledger of what was written, the jobs run and reported."""
