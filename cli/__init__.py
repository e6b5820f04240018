"""The `docagent` command line: the top layer, above the API, workers and pipeline."""
