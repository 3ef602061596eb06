"""python3 -m certconv plot DOC.json -o FIG.png|svg|pdf: the picture of an
explain or analyze document (certconv.plot). Exit status 0, or 2 for bad input
(the message names the file and the key)."""
import argparse
import os
import sys
import tempfile

FORMATS = (".png", ".svg", ".pdf")


def _plot(args):
    from ._plot import DocumentError, plot

    ext = os.path.splitext(args.output)[1].lower()
    if ext not in FORMATS:
        raise DocumentError(f"-o {args.output}: unknown extension; use .png, .svg or .pdf")
    import matplotlib

    matplotlib.use("Agg")  # writing a file needs no display
    fig = plot(args.doc)
    # Atomically: a temporary file beside the target, renamed over it.
    directory = os.path.dirname(os.path.abspath(args.output))
    tmp = None
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".certconv-plot-", suffix=ext, delete=False) as f:
            tmp = f.name
            fig.savefig(f, format=ext[1:])
        # NamedTemporaryFile makes it 0600; a picture is as readable as any new file.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, args.output)
    except OSError as e:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        raise DocumentError(f"{args.output}: cannot write: {e.strerror or e}") from None
    print(f"wrote {args.output}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m certconv")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plot", help="norm_err against cond per output, with the bounds, from an explain or analyze "
                                    "document")
    p.add_argument("doc", metavar="DOC.json", help="a certconv.explain/1 or certconv.analyze/1 document")
    p.add_argument("-o", "--output", required=True, metavar="FIG", help="output picture: .png, .svg or .pdf")
    args = parser.parse_args(argv)
    from ._plot import DocumentError

    try:
        _plot(args)
    except DocumentError as e:
        print(f"certconv plot: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
