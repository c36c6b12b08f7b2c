"""Benchmarks that ship with the package, so `jingwu bench …` works from any install."""
