"""Other projects as data sources: a git repository holding an llmpipe or DVC project.

`source` opens one at a revision (a local folder read in place, anything else
cloned), `items` finds what a path names there (an output, a file inside one,
or files git tracks), `objects` brings the objects of its data to hand (the
source's own cache, this project's, or the source's remote), and `listing`
answers `ls`. The verbs that write (`get`, `import`, `update`) live in
`ops.imports`; the read-only Python API in `api`.
"""
