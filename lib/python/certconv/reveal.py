"""certconv.reveal: recover the summation order of a convolution given as a Python
function, by swamping probes (FPRev), then choose its numerics and check its replay
(docs/reveal.md)."""
import json as _json

from . import _certconv


def _pair(v, name):
    p = (v, v) if isinstance(v, int) else tuple(v)
    if len(p) != 2 or not all(isinstance(i, int) and not isinstance(i, bool) for i in p):
        raise TypeError(f"{name}: expected an int or a pair of ints, got {v!r}")
    return p


def reveal(fn, x_shape, w_shape, bias=True, stride=1, padding=0, dilation=1, groups=1, *, dtype="f32",
           tree_out=None, threads=1, seed=1):
    """The certconv.reveal/1 document (docs/json-schema.md) as a dict.

    fn(x, w, bias) computes the convolution to reveal: NumPy arrays in (x NCHW,
    w OIHW, bias of length out_channels or None when bias=False, all of `dtype`),
    an array-like of that dtype out (a torch tensor: return t.numpy()). It is called
    a few dozen times with probe inputs and random ones. With tree_out, the trees
    are written there and doc["order"] is the order `certconv.run` replays them with.
    """
    if dtype not in ("f32", "f64"):
        raise ValueError(f"dtype must be 'f32' or 'f64', got {dtype!r}")
    args = _certconv.ConvArgs(_pair(stride, "stride"), _pair(padding, "padding"), _pair(dilation, "dilation"),
                              int(groups))
    return _json.loads(_certconv.reveal(fn, [int(d) for d in x_shape], [int(d) for d in w_shape], bool(bias), args,
                                        dtype, tree_out or "", int(threads), int(seed)))
