"""`llmpipe ui`: a local web dashboard of one project.

Pages for the pipeline (live while a `repro` runs elsewhere), experiments
(workspace, branches, commits and sweep jobs with their params and metrics),
plots, lineage, the model registry and the audit trail, rendered on the server
from the library's own values. Read-only unless started with `--allow-writes`;
writes (promote, roll back) go through the `ops` verbs, so the access policy and
the audit record apply as they do on the command line.

Importing this package imports the web stack (starlette, jinja2): only the `ui`
command does.
"""

from .app import UiOptions, create_app

__all__ = ["UiOptions", "create_app"]
