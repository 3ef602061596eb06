"""certconv: certified truth, proven error bounds and emulated summation orders
for 2-D convolutions, on NumPy arrays (or CPU torch tensors).

Arguments follow ``torch.nn.functional.conv2d``: ``x`` is NCHW, ``w`` is OIHW
(out_channels, in_channels/groups, kh, kw), ``bias`` has out_channels elements;
``stride``, ``padding`` and ``dilation`` are ints or pairs (dilation 1 = none).
Arrays are anything ``numpy.asarray`` takes (a torch tensor is taken through
``.detach().cpu().numpy()``); x, w and bias share one dtype, float32 or
float64. Non-contiguous arrays are copied to C order.

Examples
--------
>>> import certconv
>>> certconv.assert_conv_close(y, x, w, padding=1)   # instead of a hand-tuned atol

Errors in the arguments raise TypeError (wrong types) or ValueError (wrong
shapes or values, naming the argument and the index at fault).
"""
from __future__ import annotations

import json as _json
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Optional, Sequence, Tuple, TypedDict, Union

import numpy as _np
import numpy.typing as _npt

from . import _certconv

if TYPE_CHECKING:
    import os

    import matplotlib.axes
    import matplotlib.figure

__version__: str = _certconv.__version__
__all__ = ["truth", "run", "analyze", "explain", "identify", "certified_tolerance", "check_conv",
           "assert_conv_close", "order_names", "plot", "reveal", "ArrayLike", "IntPair", "Document", "TruthResult", "RunResult",
           "ToleranceResult", "CheckResult", "OutputRecord", "GradTruthResult"]

#: Anything numpy.asarray takes: a NumPy array, a CPU torch tensor, nested lists.
ArrayLike = _npt.ArrayLike
#: An int for both spatial dimensions, or (height, width).
IntPair = Union[int, Tuple[int, int]]
#: A certconv JSON document (``certconv.analyze/1``, ``certconv.explain/1``,
#: ``certconv.identify/1``; docs/json-schema.md) as nested dicts and lists.
Document = dict


class TruthResult(TypedDict):
    """What :func:`truth` returns (``fields=`` leaves out the arrays not asked for)."""
    spec: str                      #: the problem as a benchdnn descriptor
    y: _npt.NDArray[_np.float64]   #: correctly rounded binary64 truth, NCHW
    y32: _npt.NDArray[_np.float32]  #: correctly rounded binary32 truth
    lo: _npt.NDArray[_np.float64]  #: enclosure lower end (rounded down)
    hi: _npt.NDArray[_np.float64]  #: enclosure upper end (rounded up)
    absdot: _npt.NDArray[_np.float64]  #: sum |w x| (+|bias|), rounded up
    cond: _npt.NDArray[_np.float64]  #: absdot/|y|, inf where y = 0
    exact_zeros: int
    undetermined: int
    kernel: str  #: what computed it: "binary64", "integer, N moduli", "exact" or "mpfi"


class GradTruthResult(TruthResult, total=False):
    """What :func:`truth` returns for a ``direction`` or ``transposed=True``:
    the fields of :class:`TruthResult` for the direction's result (``y`` holds
    dx or dw), plus these."""
    direction: str                 #: FWD_D, FWD_B, BWD_D, BWD_W or BWD_WB
    result: str                    #: which result the arrays hold: y, dx, dw
    n_terms: int                   #: terms per output of the computation (docs/directions.md)
    db: TruthResult                #: BWD_WB only: the truth of db


class RunResult(TypedDict):
    """What :func:`run` returns."""
    y: _npt.NDArray[Any]           #: the order's output, in its dtype
    bound: Optional[_npt.NDArray[_np.float64]]  #: rigorous per-element bound on |y - exact|
    bound_kind: str
    running_bound: Optional[_npt.NDArray[_np.float64]]
    order: str
    dtype: str
    provenance: dict


class ToleranceResult(TypedDict):
    """What :func:`certified_tolerance` returns."""
    per_element: _npt.NDArray[_np.float64]  #: |y - exact| <= per_element, proven
    atol: float                    #: max of per_element: valid with rtol=0
    rtol: float                    #: valid with atol=0; inf where an output may be 0
    bound_kind: str


class OutputRecord(TypedDict):
    """One output in :class:`CheckResult` ``worst``."""
    index: Tuple[int, int, int, int]
    observed: float
    truth: float
    abs_err: float
    bound: float
    cond: float
    norm_err: float


class CheckResult(TypedDict):
    """What :func:`check_conv` returns."""
    passed: bool
    beyond: int                    #: outputs certainly beyond the bound
    outputs: int
    bound_kind: str
    worst: list                    #: list of OutputRecord, those beyond first
    message: str


def order_names() -> list[str]:
    """Every emulated order and real backend of this build.

    Returns
    -------
    list of str
        Names that ``order=`` and ``orders=`` accept (parameters go after a
        colon: ``"gemm-blocked:kc=256,fma=1"``; ``certconv orders`` lists them).

    Examples
    --------
    >>> "im2col" in certconv.order_names()
    True
    """
    return _certconv.order_names()


def _reduced_format(a: Any) -> Optional[str]:
    """"bf16" or "fp16" for a torch bfloat16/float16 tensor or a NumPy float16
    array, else None."""
    dt = str(getattr(a, "dtype", ""))
    if dt == "torch.bfloat16":
        return "bf16"
    return "fp16" if dt in ("torch.float16", "float16") else None


def _array(a: Any, name: str, ndim: int, layout: str) -> _np.ndarray:
    if hasattr(a, "detach") and hasattr(a, "numpy"):  # a torch tensor
        a = a.detach().cpu()
        if str(getattr(a, "dtype", "")) == "torch.bfloat16":  # NumPy has no bfloat16: widened to float32, exactly
            a = a.float()
        a = a.numpy()
    if getattr(a, "dtype", None) == _np.float16:  # widened to float32, exactly
        a = _np.asarray(a, dtype=_np.float32)
    try:
        a = _np.asarray(a)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name}: expected an array (NumPy, torch or a nested list), got {type(a).__name__}: {e}") \
            from None
    if a.dtype.kind != "f" or a.dtype.itemsize not in (4, 8):
        raise TypeError(f"{name}: dtype {a.dtype} is not supported; certconv takes float32 or float64 arrays")
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array ({layout}), got {a.ndim}-D with shape {a.shape}")
    return _np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("="))


def _pair(v: Any, name: str) -> Tuple[int, int]:
    def is_int(i: Any) -> bool:
        return isinstance(i, (int, _np.integer)) and not isinstance(i, bool)

    if is_int(v):
        return (int(v), int(v))
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(is_int(i) for i in v):
        return (int(v[0]), int(v[1]))
    raise TypeError(f"{name}: expected an int or a pair of ints, got {v!r}")


def _input_format(x: Any, w: Any, bias: Any) -> Optional[str]:
    """The reduced format x, w and bias share (bf16, fp16), or None; they must agree,
    as torch's conv2d requires."""
    named = [("x", x), ("w", w)] + ([("bias", bias)] if bias is not None else [])
    formats = {name: _reduced_format(a) for name, a in named}
    if len(set(formats.values())) > 1:
        raise TypeError("; ".join(f"{n} is {f or 'float32/float64'}" for n, f in formats.items())
                        + "; x, w and bias must share one dtype")
    return formats["x"]


def _dir_format(x: Any, w: Any, bias: Any, dy: Any, direction: str, transposed: bool) -> Optional[str]:
    """_input_format over the arrays a direction reads (an operand given by its shape is not read)."""
    if transposed or direction == "fwd":
        return _input_format(x, w, bias)
    named = [("w", w) if direction == "bwd_d" else ("x", x), ("dy", dy)]
    formats = {name: _reduced_format(a) for name, a in named}
    if len(set(formats.values())) > 1:
        raise TypeError("; ".join(f"{n} is {f or 'float32/float64'}" for n, f in formats.items())
                        + "; the operands must share one dtype")
    return formats["dy"]


def _tolerance(tolerance: str, input_format: Optional[str], output: Optional[str]) -> str:
    """tolerance with the formats of the operands added where it does not name them:
    bf16/fp16 inputs, the output's format (its final rounding), and for bf16 flush to
    zero, as the x86 bf16 dot-product instructions do (the bound then holds with or
    without it)."""
    if not isinstance(tolerance, str):
        raise TypeError(f"tolerance: expected a string, got {tolerance!r}")
    if output not in (None, "bf16", "fp16"):
        raise ValueError(f"output: expected 'bf16', 'fp16' or None, got {output!r}")
    if input_format is None and output is None:
        return tolerance
    head, _, params = tolerance.partition(":")
    if head not in ("any-order", "probabilistic"):
        if output is not None:
            raise ValueError(f"tolerance {tolerance!r}: the output is {output}; an emulated order's bound is for "
                             f"its float32 output, use tolerance='any-order'")
        return tolerance
    given = {kv.split("=", 1)[0] for kv in params.split(",") if kv}
    extra = []
    if head == "any-order" and input_format and "input" not in given:
        extra.append(f"input={input_format}")
    if output and "output" not in given:
        extra.append(f"output={output}")
    if head == "any-order" and "bf16" in (input_format, output) and "ftz" not in given:
        extra.append("ftz=1")
    return tolerance if not extra else head + ":" + ",".join(([params] if params else []) + extra)


def _problem(x: Any, w: Any, bias: Any, stride: Any, padding: Any, dilation: Any, groups: Any):
    _input_format(x, w, bias)
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


_DIRECTIONS = {"fwd": None, "bwd_d": "BWD_D", "bwd_w": "BWD_W", "bwd_wb": "BWD_WB"}


def _axes(v: Any, name: str, rank: int, least: int) -> Tuple[int, ...]:
    def is_int(i: Any) -> bool:
        return isinstance(i, (int, _np.integer)) and not isinstance(i, bool)

    if is_int(v):
        v = (int(v),) * rank
    if not (isinstance(v, (tuple, list)) and len(v) == rank and all(is_int(i) for i in v)):
        raise TypeError(f"{name}: expected an int or {rank} ints for a {rank}-D convolution, got {v!r}")
    if min(v) < least:
        raise ValueError(f"{name}: must be >= {least}{' (1 means no dilation)' if name == 'dilation' else ''}, got {v}")
    return tuple(int(i) for i in v)


def _shape_or_array(a: Any, name: str, rank: int) -> Tuple[Optional[_np.ndarray], Tuple[int, ...]]:
    """An operand given as an array, or only as its shape (as torch.nn.grad's
    input_size / weight_size): (array or None, shape)."""
    if isinstance(a, (tuple, list)) and all(isinstance(i, (int, _np.integer)) for i in a):
        if len(a) != rank + 2:
            raise ValueError(f"{name}: a shape of {rank + 2} ints for a {rank}-D convolution, got {tuple(a)}")
        return None, tuple(int(i) for i in a)
    arr = _array(a, name, rank + 2, f"{rank}-D convolution")
    return arr, arr.shape


def _dir_args(x: Any, w: Any, bias: Any, stride: Any, padding: Any, dilation: Any, groups: Any, direction: Any,
              dy: Any, transposed: bool, output_padding: Any):
    """The general problem (any rank, any direction) as _certconv.DirArgs, or None
    for a plain 2-D forward convolution (the 2-D path)."""
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction: expected one of {sorted(_DIRECTIONS)}, got {direction!r}")
    if direction == "fwd" and not transposed and dy is None and _np.ndim(x) not in (3, 5):
        if output_padding != 0:
            raise ValueError("output_padding: only with transposed=True")
        return None  # conv2d: the 2-D path, which also names what is wrong with other shapes
    if not isinstance(groups, (int, _np.integer)) or isinstance(groups, bool) or groups < 1:
        raise TypeError(f"groups: expected an int >= 1, got {groups!r}")
    g = int(groups)
    if transposed:
        if direction != "fwd" or dy is not None:
            raise ValueError("transposed=True: give x (conv_transpose's input) and w, without direction or dy")
        if bias is not None:
            raise ValueError("bias: not taken with transposed=True; the truth of the sum without it is exact, add the "
                             "bias yourself")
        direction, dy, x = "bwd_d", x, None
    elif output_padding != 0:
        raise ValueError("output_padding: only with transposed=True")
    dname = _DIRECTIONS[direction]
    ref = w if dname == "BWD_D" else x
    ndim = _np.ndim(ref) if not isinstance(ref, (tuple, list)) else len(ref)
    rank = ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"{'w' if dname == 'BWD_D' else 'x'}: expected 3-D, 4-D or 5-D (conv1d/2d/3d), got {ndim}-D")
    if dname is None and rank == 2 and dy is None:
        return None
    s, p = _axes(stride, "stride", rank, 1), _axes(padding, "padding", rank, 0)
    d = _axes(dilation, "dilation", rank, 1)
    if dname is None:
        dname = "FWD_B" if bias is not None else "FWD_D"
        if dy is not None:
            raise ValueError("dy: only with direction='bwd_d', 'bwd_w' or 'bwd_wb'")
        xa, wa = _array(x, "x", rank + 2, "N, C, spatial"), _array(w, "w", rank + 2, "O, I/groups, kernel")
        xs, ws, dya = xa.shape, wa.shape, None
    else:
        if bias is not None:
            raise ValueError(f"bias: direction {direction!r} does not read a bias (bwd_wb computes db)")
        if dy is None:
            raise ValueError(f"dy: direction {direction!r} needs dy (the gradient of the output)")
        dya = _array(dy, "dy", rank + 2, "N, out_channels, spatial")
        if dname == "BWD_D":
            wa, ws = _array(w, "w", rank + 2, "O, I/groups, kernel"), None
            ws = wa.shape
            if transposed:
                op = _axes(output_padding, "output_padding", rank, 0)
                for a in range(rank):
                    if op[a] >= max(s[a], d[a]):
                        raise ValueError(f"output_padding: {op[a]} must be smaller than stride or dilation")
                xs = (dya.shape[0], ws[1] * g) + tuple((dya.shape[2 + a] - 1) * s[a] - 2 * p[a] + d[a] * (ws[2 + a] - 1)
                                                       + op[a] + 1 for a in range(rank))
            else:
                _, xs = _shape_or_array(x, "x", rank)
            xa = None
        else:
            xa = _array(x, "x", rank + 2, "N, C, spatial")
            xs = xa.shape
            _, ws = _shape_or_array(w, "w", rank)
            wa = None
    axes = "dhw"[3 - rank:]
    desc = f"g{g}mb{xs[0]}ic{xs[1]}" + "".join(f"i{c}{xs[2 + a]}" for a, c in enumerate(axes)) + f"oc{ws[0]}"
    # o is deduced as PyTorch does; a dy of another size is then named as wrong.
    for key, v in (("k", ws[2:]), ("s", s), ("p", p), ("d", tuple(i - 1 for i in d))):
        desc += "".join(f"{key}{c}{v[a]}" for a, c in enumerate(axes))
    if bias is not None:
        bias = _array(bias, "bias", 1, "out_channels")
    return _certconv.DirArgs(desc, dname, xa, wa, bias, dya)


def _dtype(dtype: Any) -> Optional[str]:
    if dtype is None:
        return None
    names = {"f32": "f32", "float32": "f32", "f64": "f64", "float64": "f64"}
    key = dtype if isinstance(dtype, str) else _np.dtype(dtype).name
    if key not in names:
        raise ValueError(f"dtype: expected 'f32' or 'f64' (or numpy.float32/float64), got {dtype!r}")
    return names[key]


# The parameters every function shares, described once (appended to each docstring).
_CONV_PARAMETERS = """x : array_like
        Input activations, NCHW, float32 or float64.
    w : array_like
        Weights, OIHW (out_channels, in_channels/groups, kh, kw), x's dtype.
    bias : array_like, optional
        out_channels elements, x's dtype.
    stride, padding, dilation : int or (int, int)
        As ``torch.nn.functional.conv2d``; dilation 1 means none.
    groups : int
        As ``torch.nn.functional.conv2d``."""
_CONV_RAISES = """TypeError
        An argument of the wrong type, or a dtype other than float32/float64.
    ValueError
        Shapes that do not make one convolution, non-finite inputs, or a bad
        option value; the message names the argument and the index."""


def _doc(text: str) -> str:
    return text.replace("{conv}", _CONV_PARAMETERS).replace("{raises}", _CONV_RAISES)


_TRUTH_FIELDS = ("y", "y32", "lo", "hi", "absdot", "cond")


def truth(x: ArrayLike, w: ArrayLike, bias: Optional[ArrayLike] = None, stride: IntPair = 1,
          padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1, *, method: str = "auto",
          precision: int = 256, threads: int = 0, direction: str = "fwd", dy: Optional[ArrayLike] = None,
          transposed: bool = False, output_padding: IntPair = 0,
          fields: Union[str, Sequence[str]] = "all") -> Union[TruthResult, GradTruthResult]:
    names = list(_TRUTH_FIELDS) if fields == "all" else [fields] if isinstance(fields, str) else list(fields)
    general = _dir_args(x, w, bias, stride, padding, dilation, groups, direction, dy, transposed, output_padding)
    if general is None:
        x, w, bias, conv = _problem(x, w, bias, stride, padding, dilation, groups)
        return _certconv.truth(x, w, bias, conv, method, precision, threads, names)
    results = _certconv.truth_dir(general, method, precision, threads, names)
    first = results[0]
    if len(results) > 1:
        first["db"] = results[1]
    return first


truth.__doc__ = _doc("""The certified true result of the convolution.

    Parameters
    ----------
    {conv}
    method : {"auto", "exact", "mpfi", "integer", "binary64"}
        ``"auto"``: the integer method on wide layers where the CPU has
        AVX-512 VNNI, else fast binary64 enclosures, the exact accumulator
        where they do not decide the rounding; ``"integer"``: exact sums by
        int8 residue GEMMs (binary32 inputs, AVX-512 VNNI; refused with the
        reason elsewhere); ``"binary64"``: the fast binary64 enclosures
        alone; ``"exact"``: the exact accumulator for every
        output; ``"mpfi"``: the independent interval method. All give the same
        ``y``.
    precision : int
        MPFI precision in bits (method ``"mpfi"``).
    threads : int
        Worker threads, 0 = all cores; the result does not depend on it.
    direction : {"fwd", "bwd_d", "bwd_w", "bwd_wb"}
        Which convolution: the forward one (1-D, 2-D or 3-D by x's rank), or a
        gradient as ``torch.nn.grad.conv{1,2,3}d_input`` (``"bwd_d"``: dx from
        w and dy; x may be the array or only its shape) and
        ``conv{1,2,3}d_weight`` (``"bwd_w"``: dw from x and dy; w may be the
        array or only its shape; ``"bwd_wb"`` also gives db = dy summed).
    dy : array_like, optional
        The gradient of the output (N, out_channels, spatial), for the
        backward directions.
    transposed : bool
        ``torch.nn.functional.conv_transpose{1,2,3}d(x, w, ...)`` instead: w
        is (in_channels, out_channels/groups, kernel); computed as the
        backward-data convolution it is. No bias.
    output_padding : int or tuple of int
        As ``conv_transpose``; only with ``transposed=True``.
    fields : "all", str or sequence of str
        Which arrays to return besides ``y`` (always there): ``y32``, ``lo``,
        ``hi``, ``absdot``, ``cond``. Without ``absdot`` and ``cond`` the
        Σ|w x| pass is skipped, about half of the work: ``fields="y"`` when you
        only compare against the truth.

    Returns
    -------
    TruthResult or GradTruthResult
        dict: ``y`` (correctly rounded float64), ``y32`` (correctly rounded
        float32), ``lo``/``hi`` (enclosure), ``absdot`` (sum |w x|, rounded up),
        ``cond`` (absdot/|y|, inf where y = 0), ``exact_zeros``,
        ``undetermined``, ``kernel`` (what method ``"auto"`` took, e.g.
        ``"integer, 13 moduli"``), ``spec`` (the benchdnn descriptor); for a direction
        or ``transposed`` also ``direction``, ``result`` (y, dx, dw) and
        ``n_terms``, and for ``"bwd_wb"`` ``db``.

    Raises
    ------
    {raises}

    Examples
    --------
    >>> t = certconv.truth(x, w, stride=2, padding=3)
    >>> err = abs(y.astype(np.float64) - t["y"])   # the true error of your y
    >>> dw = certconv.truth(x, w.shape, padding=1, direction="bwd_w", dy=dy)["y"]
    """)


def run(x: ArrayLike, w: ArrayLike, bias: Optional[ArrayLike] = None, stride: IntPair = 1,
        padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1, *, order: str = "im2col",
        dtype: Any = None, threads: int = 0, bound: bool = True) -> RunResult:
    x, w, bias, conv = _problem(x, w, bias, stride, padding, dilation, groups)
    return _certconv.run(x, w, bias, conv, order, _dtype(dtype), threads, bound)


run.__doc__ = _doc("""One emulated summation order or real backend, replayed bit for bit.

    Parameters
    ----------
    {conv}
    order : str
        ``"NAME[:k=v,...]"``, one of :func:`order_names` (``"im2col"``,
        ``"onednn"``, ``"gemm-blocked:kc=256,fma=1"``, ...).
    dtype : {None, "f32", "f64"} or numpy dtype
        Working precision; None = the inputs' dtype.
    threads : int
        Worker threads, 0 = all cores; the output does not depend on it.
    bound : bool
        Compute the order's rigorous per-element bound.

    Returns
    -------
    RunResult
        dict: ``y`` (in dtype), ``bound`` (rigorous per-element bound on
        |y - exact|, float64, or None), ``bound_kind``, ``running_bound``,
        ``order`` (every parameter spelled out), ``dtype``, ``provenance``.

    Raises
    ------
    {raises}

    Examples
    --------
    >>> r = certconv.run(x, w, padding=1, order="im2col")
    >>> bool((abs(r["y"] - certconv.truth(x, w, padding=1)["y"]) <= r["bound"]).all())
    True
    """)


def analyze(x: ArrayLike, w: ArrayLike, bias: Optional[ArrayLike] = None, stride: IntPair = 1,
            padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1, *,
            orders: Union[str, Iterable[str]] = (), observed: Optional[Mapping[str, ArrayLike]] = None,
            dtype: Any = None, rtol: float = 1e-5, atol: float = 1e-8, lambda_: float = 5.0, threads: int = 0,
            allow_violations: bool = False, direction: str = "fwd", dy: Optional[ArrayLike] = None,
            transposed: bool = False, output_padding: IntPair = 0) -> Document:
    general = _dir_args(x, w, bias, stride, padding, dilation, groups, direction, dy, transposed, output_padding)
    if general is not None:
        if isinstance(orders, str):
            orders = [orders]
        obs = [(str(name), _np.ascontiguousarray(_np.asarray(y))) for name, y in dict(observed or {}).items()]
        return _json.loads(_certconv.analyze_dir(general, list(orders), obs, _dtype(dtype), rtol, atol, lambda_,
                                                 threads, allow_violations))
    x, w, bias, conv = _problem(x, w, bias, stride, padding, dilation, groups)
    if isinstance(orders, str):
        orders = [orders]
    observed_list = []
    for name, y in dict(observed or {}).items():
        y, fmt = y if isinstance(y, tuple) else (y, None)  # (array, "bf16") names the format
        fmt = fmt or _reduced_format(y) or ""
        observed_list.append((str(name), _array(y, f"observed[{name!r}]", 4, "NCHW"), fmt))
    return _json.loads(_certconv.analyze(x, w, bias, conv, list(orders), observed_list, _dtype(dtype), rtol, atol,
                                         lambda_, threads, allow_violations))


analyze.__doc__ = _doc("""Every order and every observed output against the certified truth.

    Parameters
    ----------
    {conv}
    orders : str or iterable of str
        Order strings as for :func:`run`; ``"all"`` = every order and backend
        of this build (those that reject the problem are listed as skipped).
    observed : mapping of str to array_like, optional
        Outputs computed elsewhere (name -> NCHW array), measured too, each in
        its format (float64, float32, torch bfloat16/float16, NumPy float16;
        ``(array, "bf16")`` for a float32 array that holds bf16 values).
    dtype : {None, "f32", "f64"}
        Working precision of the orders; None = the inputs' dtype.
    rtol, atol : float
        ``numpy.isclose`` tolerances against the truth (``isclose_failures``).
    lambda_ : float
        lambda of the probabilistic bound.
    threads : int
        Worker threads, 0 = all cores.
    allow_violations : bool
        Do not raise when an order's rigorous bound is violated.
    direction, dy, transposed, output_padding : optional
        As for :func:`truth`: the observed outputs are then dx or dw (1-D, 2-D
        or 3-D), and the orders among direct, im2col, gemm-blocked, pairwise,
        kahan, split-k (their order per direction: docs/directions.md).

    Returns
    -------
    Document
        The ``certconv.analyze/1`` document (docs/json-schema.md): per order and
        observed output, norm_err, ulp_err, relative error, correctly rounded
        fraction, bound tightness, violations, isclose failures, histogram,
        worst outputs, and provenance.

    Raises
    ------
    {raises}

    Examples
    --------
    >>> doc = certconv.analyze(x, w, padding=1, orders=["im2col", "direct"], observed={"torch": y})
    >>> [(o["name"], o["max_norm_err"], o["violations"]) for o in doc["observed"]]
    """)


def explain(a: ArrayLike, b: ArrayLike, x: ArrayLike, w: ArrayLike,
            bias: Optional[ArrayLike] = None, stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1,
            groups: int = 1, *, names: Sequence[str] = ("A", "B"), formats: Optional[Sequence[str]] = None,
            rtol: float = 1e-3, atol: float = 1e-8, f64: bool = False, threads: int = 0,
            direction: str = "fwd", dy: Optional[ArrayLike] = None, transposed: bool = False,
            output_padding: IntPair = 0) -> Document:
    if len(names) != 2 or not all(isinstance(n, str) for n in names):
        raise TypeError(f"names: expected two strings, got {names!r}")
    if formats is not None and (len(formats) != 2 or not all(isinstance(f, str) for f in formats)):
        raise TypeError(f"formats: expected two strings such as ('f64', 'f32'), got {formats!r}")
    given = formats or (_reduced_format(a), _reduced_format(b))
    general = _dir_args(x, w, bias, stride, padding, dilation, groups, direction, dy, transposed, output_padding)
    a = _array(a, "a", 4 if general is None else _np.ndim(a), "NCHW" if general is None else "the result")
    b = _array(b, "b", 4 if general is None else _np.ndim(b), "NCHW" if general is None else "the result")
    fa, fb = (f or ("f64" if y.dtype == _np.float64 else "f32") for f, y in zip(given, (a, b)))
    if general is not None:
        return _json.loads(_certconv.explain_dir(a, b, general, names[0], names[1], fa, fb, rtol, atol, f64,
                                                 threads))
    x, w, bias, conv = _problem(x, w, bias, stride, padding, dilation, groups)
    return _json.loads(_certconv.explain(a, b, x, w, bias, conv, names[0], names[1], fa, fb, rtol, atol, f64,
                                         threads))


explain.__doc__ = _doc("""Bug or round-off? Two outputs a and b of the same convolution, explained.

    Parameters
    ----------
    a, b : array_like
        The two outputs (NCHW), e.g. a manual unfold + matmul and
        ``torch.nn.functional.conv2d``. They may differ in format: a float64
        result against a float32 one, float32 against torch bfloat16, ...;
        each is measured against the truth in its own unit roundoff.
    {conv}
    names : (str, str)
        What to call a and b in the verdict; with ``f64=True`` they must be
        order names.
    formats : (str, str), optional
        The format of a and of b: ``"f64"``, ``"f32"``, ``"bf16"``, ``"fp16"``
        (bf16/fp16: inputs rounded to it, a float32 accumulation, the result
        rounded to it). Default: read off each array (float64, float32, torch
        bfloat16/float16, NumPy float16); give ``"bf16"`` for a float32 array
        that holds bf16 values.
    rtol, atol : float
        The ``numpy.isclose`` tolerances whose failures are explained.
    f64 : bool
        Recompute both (names must be orders) in float64 and explain again.
    threads : int
        Worker threads, 0 = all cores.
    direction, dy, transposed, output_padding : optional
        As for :func:`truth`: a and b are then the direction's result (dx,
        dw; for ``"bwd_wb"`` dw or db, told apart by the shape), and indices
        in the document are in that result's shape.

    Returns
    -------
    Document
        The ``certconv.explain/1`` document: ``verdict`` (words), each side's
        error against the truth and its bound, isclose failures by cond, a
        certified tolerance, provenance.

    Raises
    ------
    {raises}

    Examples
    --------
    >>> doc = certconv.explain(a, b, x, w, stride=2, padding=3, names=("unfold+matmul", "conv2d"))
    >>> print(doc["verdict"])
    No bug: ...
    >>> doc = certconv.explain(mine_f64, torch_f32, x, w, stride=2, padding=3)  # which side carries it
    >>> doc = certconv.explain(my_dw, w.grad, x, w.shape, padding=1, direction="bwd_w", dy=dy)
    """)


def identify(y: ArrayLike, x: ArrayLike, w: ArrayLike, bias: Optional[ArrayLike] = None,
             stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1, *,
             threads: int = 0, direction: str = "fwd", dy: Optional[ArrayLike] = None) -> Document:
    general = _dir_args(x, w, bias, stride, padding, dilation, groups, direction, dy, False, 0)
    if general is not None:
        return _json.loads(_certconv.identify_dir(_np.ascontiguousarray(_np.asarray(y)), general, threads))
    y = _array(y, "y", 4, "NCHW")
    x, w, bias, conv = _problem(x, w, bias, stride, padding, dilation, groups)
    return _json.loads(_certconv.identify(y, x, w, bias, conv, threads))


identify.__doc__ = _doc("""Which emulated summation order reproduces y bit for bit.

    Every emulated order is swept over its parameter space (FMA or not,
    oneDNN's channel blocks, the OpenBLAS presets, where the bias enters, ...),
    run on x and w, and compared with y element by element.

    Parameters
    ----------
    y : array_like
        The output to identify, NCHW, in the precision it was computed in
        (float32, or float64; float32 inputs with a float64 y are allowed).
    {conv}
    threads : int
        Worker threads, 0 = all cores.
    direction, dy : optional
        As for :func:`truth`: y is then dx (``"bwd_d"``) or dw (``"bwd_w"``),
        and the candidates are the orders of that direction (PyTorch's
        autograd: ``onednn-avx512-bwd-d``, ``onednn-avx512-bwd-w:threads=N``).

    Returns
    -------
    Document
        The ``certconv.identify/1`` document: ``candidates`` best first, each
        with ``order`` (a string :func:`run` accepts), ``identical_fraction``,
        ``mismatches`` and how far the mismatches are from the truth.

    Raises
    ------
    {raises}

    Examples
    --------
    >>> doc = certconv.identify(torch_y, x, w, padding=1)
    >>> best = doc["candidates"][0]
    >>> best["order"], best["identical_fraction"]
    """)


def certified_tolerance(x: ArrayLike, w: ArrayLike, bias: Optional[ArrayLike] = None,
                        stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1, *,
                        dtype: Any = None, tolerance: str = "any-order", output: Optional[str] = None,
                        threads: int = 0, direction: str = "fwd", dy: Optional[ArrayLike] = None,
                        transposed: bool = False, output_padding: IntPair = 0) -> ToleranceResult:
    general = _dir_args(x, w, bias, stride, padding, dilation, groups, direction, dy, transposed, output_padding)
    if general is not None:
        tolerance = _tolerance(tolerance, _dir_format(x, w, bias, dy, direction, transposed), output)
        results = _certconv.certified_tolerance_dir(general, tolerance, _dtype(dtype), threads)
        first = results[0]
        if len(results) > 1:
            first["db"] = results[1]
        return first
    tolerance = _tolerance(tolerance, _input_format(x, w, bias), output)
    x, w, bias, conv = _problem(x, w, bias, stride, padding, dilation, groups)
    return _certconv.certified_tolerance(x, w, bias, conv, tolerance, _dtype(dtype), threads)


_TOLERANCE = """tolerance : str
        ``"any-order"`` (any summation order in the output's precision, with
        or without FMA), ``"any-order:input=bf16"`` (likewise ``fp16``,
        ``tf32``: inputs rounded first, as tensor cores do),
        ``"any-order:input=bf16,output=bf16,ftz=1"`` (a float32 accumulation
        rounded to a bf16 output, subnormals flushed), an order string such as
        ``"im2col"`` (that order's own, tighter bound) or
        ``"probabilistic[:lambda=L]"`` (a model, not a theorem). With bf16 or
        fp16 operands (torch tensors, NumPy float16) the formats are added
        where the string does not name them: ``check_conv(y_bf16, x_bf16,
        w_bf16)`` checks float32 accumulation, then rounding to bf16.
    output : {None, "bf16", "fp16"}
        The format the output was rounded to, for float32 arrays that hold
        bf16/fp16 values (each is checked representable); None = the output
        array's own dtype, if any."""

certified_tolerance.__doc__ = _doc("""A proven tolerance for outputs computed in dtype.

    Parameters
    ----------
    {conv}
    dtype : {None, "f32", "f64"}
        Precision the outputs are computed in; None = the inputs' dtype.
    """ + _TOLERANCE + """
    threads : int
        Worker threads, 0 = all cores.
    direction, dy, transposed, output_padding : optional
        As for :func:`truth`: gradients (``"bwd_d"``: dx, ``"bwd_w"``: dw,
        ``"bwd_wb"``: dw and db), ``conv1d``/``conv3d`` shapes by array rank,
        ``conv_transpose`` with ``transposed=True``.

    Returns
    -------
    ToleranceResult
        dict: ``per_element`` (float64 array: |y - exact| <= per_element, in
        the result's shape), ``atol`` (its max: valid with rtol=0), ``rtol``
        (valid with atol=0; inf when some output may be 0), ``bound_kind``;
        for a direction also ``result`` (y, dx, dw), and for ``"bwd_wb"``
        ``db``, the same dict for db.

    Raises
    ------
    {raises}

    Examples
    --------
    >>> tol = certconv.certified_tolerance(x, w, padding=1)
    >>> np.testing.assert_allclose(y, reference, rtol=0, atol=tol["atol"])
    >>> tol = certconv.certified_tolerance(x, w.shape, padding=1, direction="bwd_w", dy=dy)  # for dw
    """)


def check_conv(actual: ArrayLike, x: ArrayLike, w: ArrayLike, bias: Optional[ArrayLike] = None,
               stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1, *,
               tolerance: str = "any-order", output: Optional[str] = None, threads: int = 0,
               worst: int = 10, direction: str = "fwd", dy: Optional[ArrayLike] = None, transposed: bool = False,
               output_padding: IntPair = 0) -> CheckResult:
    general = _dir_args(x, w, bias, stride, padding, dilation, groups, direction, dy, transposed, output_padding)
    if general is not None:
        tolerance = _tolerance(tolerance, _dir_format(x, w, bias, dy, direction, transposed),
                               output or _reduced_format(actual))
        actual = _array(actual, "actual", _np.ndim(actual), "the direction's result")
        return _certconv.check_dir(actual, general, tolerance, threads, worst)
    tolerance = _tolerance(tolerance, _input_format(x, w, bias), output or _reduced_format(actual))
    actual = _array(actual, "actual", 4, "NCHW")
    x, w, bias, conv = _problem(x, w, bias, stride, padding, dilation, groups)
    return _certconv.check_conv(actual, x, w, bias, conv, tolerance, threads, worst)


check_conv.__doc__ = _doc("""actual against the certified truth, within the tolerance's per-element bound.

    Parameters
    ----------
    actual : array_like
        The output under test, NCHW, float32 or float64; for a direction its
        result (dx, dw; for ``"bwd_wb"`` dw or db, told apart by the shape).
    {conv}
    """ + _TOLERANCE + """
    threads : int
        Worker threads, 0 = all cores.
    worst : int
        How many outputs to list in ``worst``.
    direction, dy, transposed, output_padding : optional
        As for :func:`truth`: gradients (``"bwd_d"``: dx, ``"bwd_w"``: dw,
        ``"bwd_wb"``: dw and db), ``conv1d``/``conv3d`` shapes by array rank,
        ``conv_transpose`` with ``transposed=True``.

    Returns
    -------
    CheckResult
        dict: ``passed``, ``beyond`` (outputs certainly beyond the bound),
        ``outputs``, ``bound_kind``, ``worst`` (index, observed, truth,
        abs_err, bound, cond, norm_err; those beyond first), ``message``.

    Raises
    ------
    {raises}

    Examples
    --------
    >>> r = certconv.check_conv(y, x, w, padding=1)
    >>> r["passed"], r["beyond"]
    (True, 0)
    >>> r = certconv.check_conv(w.grad, x, w.shape, padding=1, direction="bwd_w", dy=dy)
    """)


def assert_conv_close(actual: ArrayLike, x: ArrayLike, w: ArrayLike,
                      bias: Optional[ArrayLike] = None, stride: IntPair = 1, padding: IntPair = 0,
                      dilation: IntPair = 1, groups: int = 1, *, tolerance: str = "any-order",
                      output: Optional[str] = None, msg: Optional[str] = None, threads: int = 0,
                      direction: str = "fwd", dy: Optional[ArrayLike] = None, transposed: bool = False,
                      output_padding: IntPair = 0) -> None:
    r = check_conv(actual, x, w, bias, stride, padding, dilation, groups, tolerance=tolerance, output=output,
                   threads=threads, direction=direction, dy=dy, transposed=transposed, output_padding=output_padding)
    if not r["passed"]:
        raise AssertionError(r["message"] if msg is None else f"{msg}\n{r['message']}")


assert_conv_close.__doc__ = _doc("""Assert that actual is within the certified tolerance of the exact convolution.

    A drop-in for ``torch.testing.assert_close(actual, F.conv2d(x, w, ...))``
    in convolution tests: actual is compared with the exact result within a
    proven bound instead of a tolerance tuned until the test passes.

    Parameters
    ----------
    actual : array_like
        The output under test, NCHW, float32 or float64.
    {conv}
    """ + _TOLERANCE + """
    msg : str, optional
        Put before certconv's message.
    threads : int
        Worker threads, 0 = all cores.
    direction, dy, transposed, output_padding : optional
        As for :func:`truth`: gradients (``"bwd_d"``: dx, ``"bwd_w"``: dw,
        ``"bwd_wb"``: dw and db), ``conv1d``/``conv3d`` shapes by array rank,
        ``conv_transpose`` with ``transposed=True``.

    Returns
    -------
    None
        Returns only when every output is within its bound.

    Raises
    ------
    AssertionError
        Some output is beyond its bound; the message lists the worst outputs.
    {raises}

    Examples
    --------
    >>> certconv.assert_conv_close(F.conv2d(x, w, padding=1), x, w, padding=1)
    """)


def plot(doc: Union[Document, str, "os.PathLike[str]"], *, ax: Optional["matplotlib.axes.Axes"] = None
         ) -> "matplotlib.figure.Figure":
    """The picture of an explain or analyze document: norm_err against cond per output.

    Each series' sampled outputs (``observed[].samples``: the worst and the
    isclose failures always among them) on log-log axes, each series' rigorous
    bound in norm_err units as a line or band, the rtol line
    norm_err = rtol/(u*cond), isclose failures ringed, the verdict as the title.
    Matplotlib (Debian's ``python3-matplotlib``) is imported only here.

    Parameters
    ----------
    doc : dict or path
        A ``certconv.explain/1`` or ``certconv.analyze/1`` document, as
        :func:`explain`/:func:`analyze` return it or a path to its JSON file.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (in a notebook it shows itself; ``fig.savefig(path)`` writes it).

    Raises
    ------
    ValueError
        The document cannot be plotted: unreadable, another schema, or without
        samples (written by an older certconv); the message names the file
        and the key.

    Examples
    --------
    >>> fig = certconv.plot(certconv.explain(a, b, x, w, padding=1))
    >>> fig.savefig("explain.png")

    From the shell: ``python3 -m certconv plot seed/seed.json -o seed.png``.
    """
    from ._plot import plot as _plot
    return _plot(doc, ax=ax)


def reveal(fn: Callable[..., Any], x_shape: Sequence[int], w_shape: Sequence[int], bias: bool = True,
           stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1, *, dtype: str = "f32",
           tree_out: Optional[str] = None, threads: int = 1, seed: int = 1) -> Document:
    if dtype not in ("f32", "f64"):
        raise ValueError(f"dtype: expected 'f32' or 'f64', got {dtype!r}")
    if not callable(fn):
        raise TypeError(f"fn: expected a function fn(x, w, bias) -> y, got {type(fn).__name__}")
    args = _certconv.ConvArgs(_pair(stride, "stride"), _pair(padding, "padding"), _pair(dilation, "dilation"),
                              int(groups))
    return _json.loads(_certconv.reveal(fn, [int(d) for d in x_shape], [int(d) for d in w_shape], bool(bias), args,
                                        dtype, tree_out or "", int(threads), int(seed)))


reveal.__doc__ = """Recover the summation order of a convolution given as a Python function.

    FPRev's swamping probes (docs/reveal.md): x = 1 and, per output channel,
    w = 1 except +M and -M at two taps, so that fn's output tells where the two
    taps meet in its summation tree; the trees are rebuilt from a few dozen
    calls, the numerics (FMA, where the bias enters) chosen by replay on random
    inputs, and the result checked on fresh random inputs.

    Parameters
    ----------
    fn : callable
        ``fn(x, w, bias) -> y``: NumPy arrays in (x NCHW, w OIHW, bias of
        out_channels elements or None when ``bias=False``, all of dtype), an
        array of that dtype out (from torch: ``return t.numpy()``).
    x_shape, w_shape : sequence of int
        NCHW and OIHW shapes of the convolution to reveal.
    bias : bool
        Whether fn adds a bias (it is one more leaf of the tree).
    stride, padding, dilation : int or (int, int)
        As ``torch.nn.functional.conv2d``; dilation 1 means none.
    groups : int
        As ``torch.nn.functional.conv2d``.
    dtype : {"f32", "f64"}
        The precision fn computes in.
    tree_out : str, optional
        Write the revealed trees to this file; ``doc["order"]`` is then the
        order (``tree:file=...``) that :func:`run` replays them with.
    threads : int
        Worker threads for the replay checks.
    seed : int
        Seed of the random replay inputs.

    Returns
    -------
    Document
        The ``certconv.reveal/1`` document: ``order``, the trees per class of
        outputs, the numerics chosen, calls and seconds, the replay check
        (``identical_fraction`` on fresh inputs), provenance.

    Raises
    ------
    TypeError
        fn is not callable, or an argument has the wrong type.
    ValueError
        fn fails, returns the wrong shape or dtype, or the shapes do not make
        one convolution; the message says which.

    Examples
    --------
    >>> import torch
    >>> fn = lambda x, w, b: torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w),
    ...                                                 torch.from_numpy(b), padding=1).numpy()
    >>> doc = certconv.reveal(fn, (1, 3, 8, 8), (4, 3, 3, 3), padding=1, tree_out="conv.tree.json")
    >>> doc["order"], doc["replay"]["identical_fraction"]
    """
