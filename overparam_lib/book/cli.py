"""``overparam``: run the book's notebooks with a profile, show past runs, build the HTML book.

  overparam run all --build                       execute every notebook (ci), build _build/html
  overparam run deep_double_descent --profile full -p num_seeds 5
  overparam status                                the last run of each notebook and profile
  overparam build                                 the HTML from the committed notebooks (seconds)
  overparam execute [NOTEBOOK ...]                refresh the committed notebooks' outputs in place
  overparam install-cells                         write the Colab/Binder install cell into every notebook
  overparam robustness all --seeds 0-9            run notebooks at each seed; how their claims hold
  overparam robustness deep_double_descent --seeds 0 --code-path avx2 --threads 1
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from overparam_lib.errors import ParameterError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="overparam", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute notebooks into _build/runs/<profile>/ (never the committed ones)")
    run.add_argument("targets", nargs="+", help="'all', a chapter (e.g. double_descent) or notebook names")
    run.add_argument("--profile", default="ci", help="ci (default: <= 45 s per notebook on 2 cores) or full (GPU)")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                     help="override a notebook parameter (YAML value: 0.1, [0.0, 0.2], adam)")
    run.add_argument("--build", action="store_true", help="then build _build/html from the executed copies")
    run.add_argument("--timeout", type=int, default=None, help="seconds allowed per cell (default: none)")
    sub.add_parser("status", help="the last run of each notebook and profile")
    sub.add_parser("build", help="build _build/html from the committed notebooks")
    execute = sub.add_parser("execute", help="re-execute committed notebooks in place (default profile)")
    execute.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all)")
    sub.add_parser("install-cells", help="write the install cell (repository from _config.yml) into every notebook")
    robust = sub.add_parser("robustness", help="run notebooks at many seeds; report each claim's pass rate and spread")
    robust.add_argument("targets", nargs="+", help="'all', a chapter or notebook names")
    robust.add_argument("--seeds", default="0-9", help="seeds to run, e.g. 0-9 or 0,3,7 (default 0-9)")
    robust.add_argument("--code-path", default="default", help="default, or avx2 (the code of a CPU without AVX-512)")
    robust.add_argument("--threads", type=int, default=None, help="threads of each kernel (default: the machine's)")
    robust.add_argument("--jobs", type=int, default=1, help="kernels run side by side (default 1; e.g. 2 with --threads 1)")
    robust.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                        help="override a notebook parameter for every run (YAML value)")
    robust.add_argument("--refresh", action="store_true",
                        help="rerun nothing: rewrite REPORT's reports whose notebook changed only tolerances")
    robust.add_argument("--report", type=Path, default=None,
                        help="also write each notebook's report to REPORT/<notebook>[-<setting>].md")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:  # after parsing, so --help stays fast
        import papermill  # noqa: F401  (run and execute need it: say what to install up front)

        from overparam_lib.book import build, launch, runner
    except ModuleNotFoundError as exc:  # e.g. a notebook-only install (Colab) has no papermill
        print(f"overparam: {exc.name} is not installed: pip install -r requirements.txt "
              "(or the extra overparam-lib[book])", file=sys.stderr)
        return 2

    root = build.find_root()
    try:
        if args.command == "run":
            notebooks = runner.resolve_targets(root, args.targets)
            parameters = runner.parse_parameters(args.parameter, notebooks)
            records = runner.run(root, notebooks, args.profile, parameters, args.timeout)
            print(runner.status_table(records))
            if any(r.result != "ok" for r in records):
                print(f"Failed runs are kept in {runner.runs_dir(root) / args.profile / 'failed'}.", file=sys.stderr)
                return 1
            return _build(root, runner.runs_dir(root) / args.profile / "book") if args.build else 0
        if args.command == "status":
            records = runner.last_runs(root)
            print(runner.status_table(records) if records else "No runs yet: overparam run all")
            return 0
        if args.command == "build":
            return _build(root, root)
        if args.command == "execute":
            notebooks = [p.resolve() for p in args.notebooks] or build.book_notebooks(root)
            missing = [str(p) for p in notebooks if not p.is_file()]
            if missing:
                raise ParameterError("notebooks", missing, "paths to .ipynb files")
            return 1 if any(r.error for r in build.execute_all(notebooks)) else 0
        if args.command == "robustness":
            return _robustness(root, args)
        url, branch = launch.repository(root)
        for path in build.book_notebooks(root):
            print(f"{path.name}: {'updated' if launch.sync_install_cell(path, url, branch) else 'unchanged'}")
        return 0
    except ParameterError as exc:
        print(f"overparam: {exc}", file=sys.stderr)
        return 2


def _robustness(root: Path, args) -> int:
    from overparam_lib.book import robustness, runner

    notebooks = runner.resolve_targets(root, args.targets)
    parameters = runner.parse_parameters(args.parameter, notebooks)
    if "seed" in parameters:
        raise ParameterError("-p seed", parameters["seed"], "no -p seed: use --seeds")
    seeds = robustness.parse_seeds(args.seeds)
    if args.refresh:
        return _refresh_reports(notebooks, args.report)
    # Kernels side by side share the cores: each takes its share, or they oversubscribe (10x slower).
    threads = args.threads or (max(1, (os.cpu_count() or 1) // args.jobs) if args.jobs > 1 else None)
    env = robustness.code_path_env(args.code_path, threads)
    setting = robustness.setting_label(args.code_path, threads, parameters, seeds)
    failed = False
    for notebook in notebooks:
        runs = robustness.run_seeds(notebook, seeds, env, parameters, jobs=args.jobs)
        command = robustness.remake_command(notebook, args.seeds, args.code_path, args.threads, args.parameter)
        record = robustness.record(notebook, runs, setting, command)
        print(robustness.render(record))
        failed |= not all(run.passed for run in runs)
        if args.report:
            stem = robustness.report_stem(notebook, args.code_path, args.threads, parameters, seeds)
            robustness.write_report(args.report, stem, record)
    return 1 if failed else 0


def _refresh_reports(notebooks: list[Path], directory: Path | None) -> int:
    from overparam_lib.book import robustness

    if directory is None:
        raise ParameterError("--refresh", True, "--refresh with --report DIRECTORY (the reports to rewrite)")
    for notebook in notebooks:
        for path in sorted(directory.glob(f"{notebook.stem}*.json")):
            record = robustness.load_record(path)
            if Path(record["notebook"]).name != notebook.name or not robustness.stale(record, notebook):
                continue
            try:
                robustness.write_report(directory, path.stem, robustness.refresh(record, notebook))
            except ValueError as exc:
                print(f"overparam: {exc}", file=sys.stderr)
                return 1
            print(f"{path.with_suffix('.md')}: tolerances refreshed")
    return 0


def _build(root: Path, source: Path) -> int:
    from overparam_lib.book.build import build_html

    status = build_html(source, output=root)
    if status == 0:
        print(f"Book built: {root / '_build' / 'html' / 'index.html'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
