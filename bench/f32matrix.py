"""bench/f32matrix.py: the label-first float32 matrices bench/peers writes
(one row per training or validation row: the label, then --cols features),
read for bench/hgb.py and bench/xgb_predict.py."""
import sys

import numpy as np


def load(path, cols, prog):
    """Returns (X, y) of the matrix at path; exits naming prog and the
    file when its size is not a whole number of rows."""
    m = np.fromfile(path, dtype="<f4")
    if m.size % (cols + 1) != 0:
        sys.exit(f"{prog}: {path}: {m.size} values is not a whole number of rows of {cols + 1}")
    m = m.reshape(-1, cols + 1)
    return m[:, 1:], m[:, 0].astype(np.int8)
