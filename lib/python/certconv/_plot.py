"""The implementation of certconv.plot: a picture of an explain or analyze
document (docs/json-schema.md).

norm_err against cond per output, log-log, from each series' observed[].samples
(the worst outputs and the isclose failures always among them), each series'
rigorous bound in norm_err units, the relative tolerance rtol as the line
norm_err = rtol/(u*cond), isclose failures ringed, and the verdict as the title.

    from certconv import plot
    fig = plot("seed/seed.json")   # or a dict; returns a Matplotlib Figure

Matplotlib is imported only when a picture is made, so `import certconv` does
not need it.
"""
import json
import math
import textwrap

SCHEMAS = ("certconv.explain/1", "certconv.analyze/1")

_FORMAT_NAMES = {"f32": "float32", "f64": "float64"}


class DocumentError(ValueError):
    """The document cannot be plotted; the message names the file and the key."""


def load(doc):
    """(document dict, name for messages) from a dict or a path."""
    if isinstance(doc, dict):
        return doc, "the document"
    name = str(doc)
    try:
        with open(doc, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise DocumentError(f"{name}: cannot read: {e}") from None
    try:
        return json.loads(text), name
    except ValueError as e:
        raise DocumentError(f"{name}: not valid JSON: {e}") from None


def _get(d, key, where, name):
    if not isinstance(d, dict) or key not in d:
        raise DocumentError(f"{name}: missing key '{where}{key}'")
    return d[key]


def series(doc, name="the document"):
    """The plotted series: dicts with label, observed (the observed[] entry), u,
    rtol and verdict. An explain document gives A and B, and again in float64
    when it has an f64 block; an analyze document gives each observed output."""
    if not isinstance(doc, dict):
        raise DocumentError(f"{name}: not a certconv document (a JSON object with 'schema')")
    schema = _get(doc, "schema", "", name)
    if schema not in SCHEMAS:
        raise DocumentError(f"{name}: schema '{schema}' cannot be plotted; expected {' or '.join(SCHEMAS)}")
    if schema == "certconv.analyze/1":
        blocks = [("", doc, _get(_get(doc, "parameters", "", name), "rtol", "parameters.", name))]
    else:
        blocks = [("", doc, _get(_get(doc, "isclose", "", name), "rtol", "isclose.", name))]
        if isinstance(doc.get("f64"), dict):
            blocks.append(("f64.", doc["f64"], _get(_get(doc["f64"], "isclose", "f64.", name), "rtol", "f64.isclose.",
                                                   name)))
    out = []
    for prefix, block, rtol in blocks:
        observed = _get(block, "observed", prefix, name)
        if not isinstance(observed, list):
            raise DocumentError(f"{name}: '{prefix}observed' is not an array")
        for i, o in enumerate(observed):
            where = f"{prefix}observed[{i}]."
            if not isinstance(o, dict) or "samples" not in o:
                tool = doc.get("tool", {}) if isinstance(doc.get("tool"), dict) else {}
                written = " ".join(str(tool[k]) for k in ("version", "git_hash") if k in tool) or "an older version"
                raise DocumentError(f"{name} has no samples ({where}samples missing: written by certconv {written}, "
                                    f"before documents carried them); re-run explain/analyze")
            samples = o["samples"]
            for key in ("outputs", "cond", "norm_err", "isclose_failure", "flat_index"):
                _get(samples, key, where + "samples.", name)
            dtype = _get(o, "dtype", where, name)
            label = str(_get(o, "name", where, name))
            if schema == "certconv.explain/1" or any(x.get("dtype") != dtype for x in observed):
                label += f" ({_FORMAT_NAMES.get(dtype, dtype)})"
            out.append({"label": label, "observed": o, "u": _get(o, "u", where, name), "rtol": rtol,
                        "dtype": dtype})
    if not out:
        raise DocumentError(f"{name}: 'observed' is empty; nothing to plot")
    return out


def verdict(doc):
    """The title: an explain document's verdict, or for analyze a sentence made
    from status.violations."""
    if doc["schema"] == "certconv.explain/1":
        return str(doc.get("verdict", ""))
    names = ", ".join(str(o.get("name")) for o in doc["observed"])
    v = doc.get("status", {}).get("violations", 0)
    if v:
        return f"{v} outputs are certainly beyond their rigorous bound ({names})."
    return f"Every output of {names} is within its rigorous bound."


def _bound_lines(ss):
    """Rigorous bounds in norm_err units, one entry per distinct (kind, value):
    series whose bounds agree to 3 digits share a line."""
    lines = {}
    for s in ss:
        nb = s["observed"].get("norm_bound")
        if not isinstance(nb, dict) or not isinstance(nb.get("median"), (int, float)):
            continue
        kind = s["observed"].get("bound_kind", "rigorous")
        key = (kind, f"{nb['median']:.3g}", f"{nb.get('min', nb['median']):.3g}", f"{nb.get('max', nb['median']):.3g}")
        lines.setdefault(key, {"kind": kind, "nb": nb, "series": []})["series"].append(s)
    return list(lines.values())


def plot(doc, *, ax=None):
    """The picture of doc (a dict or a path to an explain or analyze document) as
    a Matplotlib Figure; drawn into ax when given. Raises DocumentError for a
    document that cannot be plotted (the message names the file and the key)."""
    doc, name = load(doc)
    ss = series(doc, name)
    from matplotlib.figure import Figure  # here, so that importing certconv does not need Matplotlib

    if ax is None:
        fig = Figure(figsize=(9, 8), dpi=100, layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan"]

    ymin, ymax, xmin, xmax = math.inf, 0.0, math.inf, 0.0
    fail_x, fail_y = [], []
    for i, s in enumerate(ss):
        sm = s["observed"]["samples"]
        xs, ys, hidden = [], [], 0
        for c, e, f in zip(sm["cond"], sm["norm_err"], sm["isclose_failure"]):
            # null is +inf; norm_err = 0 (exact) has no place on a log axis.
            if c is None or e is None or e <= 0:
                hidden += 1
                continue
            xs.append(c)
            ys.append(e)
            if f:
                fail_x.append(c)
                fail_y.append(e)
        if xs:
            ymin, ymax, xmin, xmax = min(ymin, *ys), max(ymax, *ys), min(xmin, *xs), max(xmax, *xs)
        note = f", {hidden} exact or y = 0 not shown" if hidden else ""
        ax.scatter(xs, ys, s=5, color=colors[i % len(colors)], linewidths=0, zorder=2, gid="series",
                   label=f"{s['label']}: {len(sm['cond'])} of {sm['outputs']} outputs{note}")
    if fail_x:
        means = ss[0]["observed"]["samples"].get("isclose_failure_means", "isclose fails")
        ax.scatter(fail_x, fail_y, s=60, facecolors="none", edgecolors="red", linewidths=1.2, zorder=3,
                   label=f"{means}: {len(fail_x)} sampled points ringed", gid="isclose-failures")

    if ymax == 0:  # nothing placeable: every sampled error is 0
        ymin, ymax, xmin, xmax = 1e-3, 1.0, 1.0, 10.0
    # The bounds sit far above the errors; keep them in view.
    for line in _bound_lines(ss):
        ymax = max(ymax, line["nb"]["median"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(xmin / 2, xmax * 2)
    ax.set_ylim(ymin / 3, ymax * 5)

    for line in _bound_lines(ss):
        nb = line["nb"]
        who = "every series" if len(line["series"]) == len(ss) > 1 else ", ".join(s["label"] for s in line["series"])
        color = "black" if len(line["series"]) > 1 else colors[ss.index(line["series"][0]) % len(colors)]
        lo, med, hi = nb.get("min", nb["median"]), nb["median"], nb.get("max", nb["median"])
        label = f"rigorous bound ({line['kind']}) of {who}: bound/(u·absdot) = {med:.4g}"
        if hi > 1.01 * lo:
            ax.axhspan(lo, hi, color=color, alpha=0.12, zorder=1)
            label += f" (median; band {lo:.3g} to {hi:.3g})"
        ax.axhline(med, color=color, linestyle="--", linewidth=1.2, label=label, zorder=1)

    # gamma_tilde is the probabilistic bound at absdot = 1; series with the same n and u share one line.
    prob = {}
    for s in ss:
        pb = s["observed"].get("probabilistic")
        if isinstance(pb, dict) and isinstance(pb.get("gamma_tilde"), (int, float)):
            prob.setdefault((f"{pb['gamma_tilde'] / s['u']:.4g}", pb.get("lambda")), []).append(s)
    for (value, lam), group in prob.items():
        one = len(group) == 1
        who = group[0]["label"] if one else "every series" if len(group) == len(ss) else ", ".join(
            s["label"] for s in group)
        ax.axhline(float(value), color=colors[ss.index(group[0]) % len(colors)] if one else "gray", linestyle=":",
                   linewidth=1.2, label=f"probabilistic bound of {who}: {value} (lambda = {lam}; a model, not rigorous)")

    # |err| <= rtol*|y| is norm_err <= rtol/(u*cond): a line of slope -1, drawn
    # only where it crosses the view (float64's lies far above float32's).
    x0, x1 = ax.get_xlim()
    y1 = ax.get_ylim()[1]
    for u, rtol, label in sorted({(s["u"], s["rtol"], _FORMAT_NAMES.get(s["dtype"], s["dtype"])) for s in ss}):
        if not rtol or rtol / (u * x1) > y1:
            continue
        ax.plot([x0, x1], [rtol / (u * x0), rtol / (u * x1)], color="gray", linewidth=1, scalex=False, scaley=False,
                label=f"relative error = rtol = {rtol:g} in {label}: norm_err = rtol/(u·cond)")

    ax.set_xlabel("cond = Σ|w·x| / |y|   (how much the output amplifies round-off; dimensionless)")
    ax.set_ylabel("norm_err = |computed − exact| / (u·Σ|w·x|)   (in units of u·absdot)")
    ax.grid(True, which="major", alpha=0.3)
    legend = ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), fontsize=8, frameon=False,
                       title=f"{doc.get('problem', {}).get('desc', '')}; points: the worst norm_err, the isclose "
                             "failures, then a stride through the outputs", title_fontsize=8)
    # Legend markers of one size, whatever the size of the points (legendHandles before Matplotlib 3.7).
    for h in getattr(legend, "legend_handles", None) or legend.legendHandles:
        if hasattr(h, "set_sizes"):
            h.set_sizes([30])
    ax.set_title("\n".join(textwrap.wrap(verdict(doc), 120)), fontsize=8, loc="left")
    return fig
