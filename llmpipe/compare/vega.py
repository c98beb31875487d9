"""`plots show/diff --json`: dvc's JSON, with the Vega-Lite specs dvc's own renderer fills.

The layout is dvc's: `{"data": {plot id: [entry]}, "errors": [...]}`, where a data
plot's entry is `{"type": "vega", "revisions": [...], "content": spec}` and an image
gives one `{"type": "image", "revisions": [rev], "url": path}` per revision, the
image written to the output folder as `<rev>_<path with / as _>`. The spec is
filled by dvc-render (the library dvc uses) from llmpipe's datapoints, so tools
that read dvc's output read llmpipe's.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from ..fsutil import atomic_write_bytes
from .plots import Image, Plot, PlotsResult


def plots_json(
    result: PlotsResult, out_dir: str | None, templates_dir: str | None
) -> dict[str, Any]:
    """dvc's `--json` document; images are written into `out_dir` (None: inlined as
    `data:` URLs, as dvc does without an output folder)."""
    data = {}
    errors = list(result.errors)
    for plot in result.plots:
        data[plot.id] = (
            [_image_entry(image, out_dir) for image in plot.images]
            if plot.kind == "image"
            else _vega_entry(plot, templates_dir)
        )
        errors += plot.errors
    return {key: value for key, value in (("errors", errors), ("data", data)) if value}


def vega_spec(plot: Plot, templates_dir: str | None) -> dict[str, Any]:
    """The Vega-Lite specification dvc draws `plot` with (its template, filled)."""
    from dvc_render import VegaRenderer

    properties = {**plot.properties, "revs_with_datapoints": list(plot.revisions)}
    if templates_dir is not None:
        properties["template_dir"] = templates_dir
    renderer = VegaRenderer([dict(p) for p in plot.datapoints], plot.id, **properties)
    return renderer.get_filled_template()


def _vega_entry(plot: Plot, templates_dir: str | None) -> list[dict[str, Any]]:
    if not plot.datapoints:
        return []
    content = vega_spec(plot, templates_dir)
    return [{"type": "vega", "revisions": list(plot.revisions), "content": content}]


def _image_entry(image: Image, out_dir: str | None) -> dict[str, Any]:
    if out_dir is None:
        inline = base64.b64encode(image.content).decode()
        return {
            "type": "image",
            "revisions": [image.revision],
            "url": f"data:image;base64,{inline}",
        }
    name = f"{image.revision}_{image.filename}".replace(os.sep, "_").replace("/", "_")
    path = os.path.join(os.path.abspath(out_dir), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write_bytes(path, image.content)
    return {"type": "image", "revisions": [image.revision], "url": path}
