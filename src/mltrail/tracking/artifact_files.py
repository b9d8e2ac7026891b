"""Turning in-memory objects (text, dicts, figures, images) into artifact files."""

from __future__ import annotations

import json
import os
from typing import Any

from mltrail.exceptions import InvalidParameter


def write_text(folder: str, name: str, text: str) -> str:
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def write_dict(folder: str, name: str, data: Any) -> str:
    if name.endswith((".yaml", ".yml")):
        import yaml

        text = yaml.safe_dump(data, default_flow_style=False, sort_keys=True)
    else:
        text = json.dumps(data, indent=2, default=str)
    return write_text(folder, name, text)


def write_figure(folder: str, name: str, figure: Any) -> str:
    path = os.path.join(folder, name)
    module = type(figure).__module__
    if module.startswith("matplotlib"):
        figure.savefig(path)
    elif module.startswith("plotly"):
        if name.endswith(".html"):
            figure.write_html(path, include_plotlyjs="cdn")
        else:
            figure.write_image(path)
    else:
        raise InvalidParameter(
            f"Cannot log a figure of type {type(figure).__name__}: give a matplotlib or "
            "plotly figure."
        )
    return path


def write_image(folder: str, name: str, image: Any) -> str:
    try:
        from PIL import Image
    except ImportError:
        raise InvalidParameter("log_image needs Pillow: pip install 'mltrail[images]'.") from None
    path = os.path.join(folder, name)
    if isinstance(image, Image.Image):
        image.save(path)
        return path
    import numpy as np

    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise InvalidParameter(
            f"Cannot log an image of shape {array.shape}: expected (H, W), (H, W, 1), "
            "(H, W, 3) or (H, W, 4)."
        )
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.dtype.kind == "f":
        if array.min() < 0 or array.max() > 1:
            raise InvalidParameter("Float images must have values between 0 and 1.")
        array = (array * 255).round()
    Image.fromarray(array.astype(np.uint8)).save(path)
    return path
