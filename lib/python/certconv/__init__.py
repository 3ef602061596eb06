"""certconv: certified truth, proven error bounds and emulated summation orders
for 2-D convolutions, on NumPy arrays (or CPU torch tensors).

Arguments follow torch.nn.functional.conv2d: x is NCHW, w is OIHW
(out_channels, in_channels/groups, kh, kw), bias has out_channels elements;
stride, padding and dilation are ints or pairs (dilation 1 = none). x, w and
bias share one dtype, float32 or float64. Non-contiguous arrays are copied to C
order (numpy.ascontiguousarray); torch tensors are taken through .numpy().

    import certconv
    certconv.assert_conv_close(y, x, w, padding=1)   # instead of a hand-tuned atol

Errors in the arguments raise TypeError (wrong types) or ValueError (wrong
shapes or values, with the argument and index at fault).
"""
import json as _json

import numpy as _np

from . import _certconv

__version__ = _certconv.__version__
__all__ = ["truth", "run", "analyze", "explain", "certified_tolerance", "check_conv", "assert_conv_close",
           "order_names"]


def order_names():
    """Every emulated order and real backend of this build."""
    return _certconv.order_names()


def _array(a, name, ndim, layout):
    if hasattr(a, "detach") and hasattr(a, "numpy"):  # a torch tensor
        a = a.detach().cpu().numpy()
    if not isinstance(a, _np.ndarray):
        raise TypeError(f"{name}: expected a NumPy array (or a torch tensor), got {type(a).__name__}")
    if a.dtype.kind != "f" or a.dtype.itemsize not in (4, 8):
        raise TypeError(f"{name}: dtype {a.dtype} is not supported; certconv takes float32 or float64 arrays")
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array ({layout}), got {a.ndim}-D with shape {a.shape}")
    return _np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("="))


def _pair(v, name):
    def is_int(i):
        return isinstance(i, (int, _np.integer)) and not isinstance(i, bool)

    if is_int(v):
        return (int(v), int(v))
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(is_int(i) for i in v):
        return (int(v[0]), int(v[1]))
    raise TypeError(f"{name}: expected an int or a pair of ints, got {v!r}")


def _problem(x, w, bias, stride, padding, dilation, groups):
    x = _array(x, "x", 4, "NCHW")
    w = _array(w, "w", 4, "OIHW: out_channels, in_channels/groups, kh, kw")
    if bias is not None:
        bias = _array(bias, "bias", 1, "out_channels")
    if not isinstance(groups, (int, _np.integer)) or isinstance(groups, bool):
        raise TypeError(f"groups: expected an int, got {groups!r}")
    stride, padding, dilation = _pair(stride, "stride"), _pair(padding, "padding"), _pair(dilation, "dilation")
    for name, v, least, note in (("stride", stride, 1, ""), ("padding", padding, 0, ""),
                                 ("dilation", dilation, 1, " (1 means no dilation)"), ("groups", (groups,), 1, "")):
        if min(v) < least:
            raise ValueError(f"{name}: must be >= {least}{note}, got {v if len(v) == 2 else v[0]}")
    return x, w, bias, _certconv.ConvArgs(stride, padding, dilation, int(groups))


def _dtype(dtype):
    if dtype is None:
        return None
    names = {"f32": "f32", "float32": "f32", "f64": "f64", "float64": "f64"}
    key = dtype if isinstance(dtype, str) else _np.dtype(dtype).name
    if key not in names:
        raise ValueError(f"dtype: expected 'f32' or 'f64' (or numpy.float32/float64), got {dtype!r}")
    return names[key]


def truth(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, *, method="auto", precision=256, threads=0):
    """The certified true result. Returns a dict: y (correctly rounded float64),
    y32 (correctly rounded float32), lo/hi (enclosure), absdot (sum |w x|, rounded
    up), cond (absdot/|y|, inf where y = 0), exact_zeros, undetermined, spec.
    method: "auto" (fast path, exact where it cannot decide), "exact" or "mpfi"
    (the independent interval method)."""
    x, w, bias, conv = _problem(x, w, bias, stride, padding, dilation, groups)
    return _certconv.truth(x, w, bias, conv, method, precision, threads)


def run(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, *, order="im2col", dtype=None, threads=0,
        bound=True):
    """One emulated summation order or real backend ("NAME[:k=v,...]"). Returns a
    dict: y (in dtype, default the inputs'), bound (rigorous per-element bound on
    |y - exact|, float64, or None), bound_kind, running_bound, order, dtype,
    provenance."""
    x, w, bias, conv = _problem(x, w, bias, stride, padding, dilation, groups)
    return _certconv.run(x, w, bias, conv, order, _dtype(dtype), threads, bound)


def analyze(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, *, orders=(), observed=None, dtype=None,
            rtol=1e-5, atol=1e-8, lambda_=5.0, threads=0, allow_violations=False):
    """The certconv.analyze/1 document (docs/json-schema.md) as a dict: every
    order in `orders` ("all" for all) and every array in `observed` (name ->
    output) against the certified truth."""
    x, w, bias, conv = _problem(x, w, bias, stride, padding, dilation, groups)
    if isinstance(orders, str):
        orders = [orders]
    observed = [(str(name), _array(y, f"observed[{name!r}]", 4, "NCHW")) for name, y in dict(observed or {}).items()]
    return _json.loads(_certconv.analyze(x, w, bias, conv, list(orders), observed, _dtype(dtype), rtol, atol, lambda_,
                                         threads, allow_violations))


def explain(a, b, x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, *, names=("A", "B"), rtol=1e-3,
            atol=1e-8, f64=False, threads=0):
    """The seed question for two outputs a and b of the same convolution: the
    certconv.explain/1 document as a dict (verdict, isclose failures by cond,
    certified tolerance; with f64=True, names must be orders, recomputed in
    float64)."""
    a = _array(a, "a", 4, "NCHW")
    b = _array(b, "b", 4, "NCHW")
    if len(names) != 2 or not all(isinstance(n, str) for n in names):
        raise TypeError(f"names: expected two strings, got {names!r}")
    x, w, bias, conv = _problem(x, w, bias, stride, padding, dilation, groups)
    return _json.loads(_certconv.explain(a, b, x, w, bias, conv, names[0], names[1], rtol, atol, f64, threads))


def certified_tolerance(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, *, dtype=None,
                        tolerance="any-order", threads=0):
    """A proven tolerance for outputs computed in dtype (default: the inputs'):
    dict with per_element (float64 array: |y - exact| <= per_element), atol (its
    max: valid with rtol=0), rtol (valid with atol=0; inf when some output may be
    0) and bound_kind. tolerance: "any-order[:input=bf16|fp16|tf32]" (any
    summation order), an order string (that order's bound) or
    "probabilistic[:lambda=L]"."""
    x, w, bias, conv = _problem(x, w, bias, stride, padding, dilation, groups)
    return _certconv.certified_tolerance(x, w, bias, conv, tolerance, _dtype(dtype), threads)


def check_conv(actual, x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, *, tolerance="any-order",
               threads=0, worst=10):
    """actual against the certified truth within the tolerance's per-element
    bound. Returns a dict: passed, beyond (outputs certainly beyond), outputs,
    bound_kind, worst (list of dicts: index, observed, truth, abs_err, bound,
    cond, norm_err; those beyond first) and message."""
    actual = _array(actual, "actual", 4, "NCHW")
    x, w, bias, conv = _problem(x, w, bias, stride, padding, dilation, groups)
    return _certconv.check_conv(actual, x, w, bias, conv, tolerance, threads, worst)


def assert_conv_close(actual, x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, *, tolerance="any-order",
                      msg=None, threads=0):
    """Raises AssertionError, listing the worst outputs, unless actual is within
    the certified tolerance of the exact convolution of x and w: a drop-in for
    torch.testing.assert_close(actual, F.conv2d(x, w, ...)) in convolution tests.
    tolerance: "any-order" (default: any summation order in actual's precision),
    "any-order:input=bf16" (inputs rounded first), an order string such as
    "im2col" (that order's bound) or "probabilistic[:lambda=L]"."""
    r = check_conv(actual, x, w, bias, stride, padding, dilation, groups, tolerance=tolerance, threads=threads)
    if not r["passed"]:
        raise AssertionError(r["message"] if msg is None else f"{msg}\n{r['message']}")
