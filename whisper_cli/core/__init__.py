"""The ground floor every room stands on: transcript data, errors and exit codes, signals, streams, malloc."""
