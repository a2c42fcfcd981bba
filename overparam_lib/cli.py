"""``overparam``: re-execute the book's notebooks and build the HTML book."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from overparam_lib.book import book_notebooks, build_html, execute_all, find_root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="overparam", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    execute = sub.add_parser("execute", help="re-execute notebooks (default profile) in place")
    execute.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all)")
    build = sub.add_parser("build", help="re-execute every notebook, then build _build/html")
    build.add_argument("--no-execute", action="store_true", help="build from the committed outputs only")
    args = parser.parse_args(argv)

    root = find_root()
    notebooks = [p.resolve() for p in args.notebooks] if getattr(args, "notebooks", None) else book_notebooks(root)
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        parser.error(f"notebooks = {missing} not found: expected paths to .ipynb files")
    if not getattr(args, "no_execute", False):
        failed = [r for r in execute_all(notebooks) if r.error]
        if failed:
            print(f"{len(failed)} notebook(s) failed; the committed copies were left unchanged.", file=sys.stderr)
            return 1
    if args.command == "build":
        status = build_html(root)
        if status == 0:
            print(f"Book built: {root / '_build' / 'html' / 'index.html'}")
        return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
