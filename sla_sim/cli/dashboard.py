"""``sla-sim dashboard``: the planner panel in a browser."""

from __future__ import annotations

import argparse

from sla_sim.cli.common import add_limit_args
from sla_sim.errors import Issue, ScenarioError


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Serve the planner panel as a web page (Voilà on a loopback address of this start) until
    Ctrl-C: the page's address carries a token made for this start; see docs/security.md."""
    from sla_sim.planner.dashboard import serve

    if args.scenario and args.preset:
        raise ScenarioError([Issue("--preset", "give a scenario file or --preset, not both",
                                   args.preset)])  # fmt: skip
    return serve(port=args.port, preset=args.preset or "default", scenario_path=args.scenario,
                 reps=args.reps, open_browser=args.open,
                 workers=args.workers,
                 cull_after=args.cull_after, max_kernels=args.max_kernels,
                 host=args.host)  # fmt: skip


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``sla-sim`` parser."""
    dash = sub.add_parser("dashboard", help="the planner panel in a browser (this machine only)")
    dash.add_argument("scenario", nargs="?", help="scenario file (default: --preset)")
    dash.add_argument("--preset", help="built-in scenario name (default: default)")
    dash.add_argument("--port", type=int, default=8866, help="port (default 8866)")
    dash.add_argument("--host", default=None, metavar="ADDRESS",
                      help="loopback address to listen on, e.g. 127.0.0.1 for an SSH tunnel"
                      " (default: a random 127.X.Y.Z of this start, whose login cookie the"
                      " browser sends to no other server; 127.0.0.1 where only it exists)")
    dash.add_argument("--reps", type=int, default=100, help="replications (default 100)")
    dash.add_argument("--workers", type=int, default=None,
                      help="simulation worker processes per page (default: one per core, fewer if"
                      " --max-kernels pages with that many would be over the memory limit)")
    dash.add_argument("--open", action="store_true", help="open the page in a web browser")
    dash.add_argument("--cull-after", type=float, default=60.0, metavar="SECONDS",
                      help="shut down the kernel (and workers) of a closed page after this many"
                      " idle seconds (default 60)")
    dash.add_argument("--max-kernels", type=int, default=4, metavar="N",
                      help="most planner kernels alive at once, the pre-heated one included;"
                      " each open page holds one (about 0.5 GB); further pages get a 'busy'"
                      " page (default 4)")
    add_limit_args(dash)
    dash.set_defaults(func=cmd_dashboard)
