"""Every verb a user runs, one module per family, over the engines below.

`repro` (reproduce, status), `lineage` (the runs behind a path's content), `data`
(add, checkout, gc), `transfer` (push, fetch, pull, status -c), `sweep` (+
`sweep_job`, what each launched job runs), `diff` and `data_status` (read-only),
`commit`, `stage_add`, `stage_edit` (freeze, remove), `config_edit`, `doctor`,
`registry` (register, promote,
rollback, deprecate, deploy, monitor, verify), `policy`, `trust`. Cross-cutting
work happens here once: the repository lock, Hydra composition, access checks,
lineage recording and the audit record (`audit`). Import the module you need:
this package imports nothing itself, so `llmpipe repro` pays for no other verb.
"""
