"""Executors that run stages on other machines (Ray, Slurm) through the project's remote.

The driver side (`driver`) ships a stage as a `StageTask`; the worker side (`worker`)
runs it in a scratch workspace of its own and sends the outputs back through the
remote. Nothing here needs a filesystem shared with the project.
"""
