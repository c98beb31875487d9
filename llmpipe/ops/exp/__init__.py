"""The `exp` verbs: experiments kept as git refs in dvc's layout (`refs/exps/…`).

`run` reproduces in the workspace and saves the result as an experiment commit
on HEAD; `show` lists the workspace, baselines and experiments as `dvc exp
show` does; the others apply, branch, list, remove, push and pull them.
"""
