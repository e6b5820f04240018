"""docagent's benchmarks: `python -m bench` prints a markdown table and writes bench/results.json."""
