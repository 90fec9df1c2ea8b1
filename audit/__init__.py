"""Audit of employment-internship subsidy funds (就业见习补贴)."""

import os

__version__ = "0.1.0"

# The allocator polars brings (jemalloc), set before polars is first imported (polars reads this
# variable then, after its own defaults, which give memory back after half a second): one arena
# for all threads, freed pages kept two seconds for reuse before they go back to the system. A
# run allocates and frees gigabytes stage by stage; at 1 M trainees this halves the system time
# spent faulting fresh pages in, for the same peak memory (bench/NOTES.md, "The allocator").
# An operator's own setting of the variable is kept as it is.
os.environ.setdefault("_RJEM_MALLOC_CONF", "narenas:1,dirty_decay_ms:2000,muzzy_decay_ms:0")
