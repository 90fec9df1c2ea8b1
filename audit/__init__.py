"""Audit of employment-internship subsidy funds (就业见习补贴)."""

import os

__version__ = "0.1.0"

# The allocator polars brings (jemalloc), set before polars is first imported: jemalloc reads this
# variable when it starts, after polars' own settings, which give freed memory back to the system
# after half a second — and every allocation of 8 MiB or more (a column of a million rows) at
# once, in a separate arena. A run allocates and frees gigabytes stage by stage, so it faulted
# fresh zeroed pages in all the time (10 M page faults, 27-32 s of system CPU at 1 M trainees).
# Here large allocations share the ordinary arenas and freed pages are kept ten seconds for
# reuse (bench/NOTES.md, "The allocator"): three seconds first (6.6-7.5 M faults, 19-22 s of system
# CPU, the national run 7 % faster for 0.3-0.5 GiB more peak memory), ten once the run held its
# skipped rows compactly and freed each shared result with the last check reading it
# (audit.app.pipeline.run_checks): 64.1-64.4 s against 65.7-66.4 s with six, the peak 4.95-5.24
# GiB with the validation process. Every second kept is memory held: at ten seconds before those
# changes the peak was 5.6-5.8 GiB. One arena for all threads was tried: it adds as much user time
# as it saves. An operator's own setting of the variable is kept as it is.
os.environ.setdefault("_RJEM_MALLOC_CONF", "oversize_threshold:0,dirty_decay_ms:10000,muzzy_decay_ms:0")
