"""shixin's benchmarks: each figure measured against its baseline on the same machine, same run.

`python -m bench [--quick | --toy]` (or `make bench`, `make bench-quick`) runs them all and writes
bench/results.json; docs/PERFORMANCE.md reports the figures.
"""
