"""Corpora of test inputs: bad input of every kind, each with the precise reason it must get."""
