"""Read and validate `dvc.yaml` and `.dvc` files into `Stage` objects.

The public surface of the spec package; the modules behind it are private.
"""

from llmpipe.spec.discover import (
    discover_dvcfiles,
    dvcfiles_at,
    load_file_stages,
    load_stages,
    names_dvcyaml,
)
from llmpipe.spec.dvcfile import (
    dvcfile_text,
    load_dvcfile,
    read_dvcfile,
    read_dvcfile_hash,
    read_dvcfile_hashes,
    record_dvcfile_hashes,
    update_dvcfile,
    write_dvcfile,
)
from llmpipe.spec.dvcyaml import DvcYaml, load_dvcyaml, parse_dvcyaml
from llmpipe.spec.params import lookup_param, read_params_file

__all__ = [
    "DvcYaml",
    "discover_dvcfiles",
    "dvcfiles_at",
    "dvcfile_text",
    "load_dvcfile",
    "load_dvcyaml",
    "load_file_stages",
    "load_stages",
    "lookup_param",
    "names_dvcyaml",
    "parse_dvcyaml",
    "read_dvcfile",
    "read_dvcfile_hash",
    "read_dvcfile_hashes",
    "read_params_file",
    "record_dvcfile_hashes",
    "update_dvcfile",
    "write_dvcfile",
]
