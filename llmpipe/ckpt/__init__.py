"""Checkpoints that survive the machine: streamed to the remote while a stage runs.

`spec` reads which output of a stage holds its checkpoints (`meta.llmpipe.checkpoints`);
`snapshot` hashes the complete ones into the cache; `records` keeps the run and
checkpoint records on the remote; `stream` is the watcher thread that pushes while
the stage's command runs; `resume` finds, fetches (verified) and restores the latest
pushed checkpoint of an unfinished run; `session` ties them around one command.
The contract training code follows is `llmpipe.checkpoint`.
"""
