"""Jobs: long runs over stores (partitioned files, a Dask cluster) that commands and scripts start.

A layer between the commands (``api/cli/*.py``: parse options, print) and the pure analyses in
``parks``: a job reads and writes the stores, picks the engine and talks to the cluster.
"""
