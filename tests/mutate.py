"""Mutation testing of sla_sim, one module group at a time (``bash dev.sh mutate [MODULE ...]``).

The tool is mutmut 3 (see the README's "Mutation testing" section for why). Each module group
named in ``[tool.sla_sim.mutation.modules]`` of ``pyproject.toml`` lists the source files to
mutate and the fast test files that judge them. For each group this script:

1. copies ``sla_sim/``, ``tests/`` and ``pyproject.toml`` into a scratch directory
   ``build/mutation/<group>/`` (mutmut writes its mutants under the directory it runs in, so
   the shared working tree is never modified);
2. appends a ``[tool.mutmut]`` table for that group to the scratch ``pyproject.toml``;
3. runs ``mutmut run`` there, then reads every mutant's status with ``mutmut results --all``;
4. re-checks every survivor against the group's whole test list in a fresh pytest process
   (``MUTANT_UNDER_TEST=<name>``): mutmut runs, per mutant, only the tests it saw calling the
   mutated function, and objects the tests build once and cache (module-level calendars,
   ``functools.cache``) hide later calls from that map, so some "survivors" are killed by
   the same test files run in full;
5. writes ``build/mutation/<group>/summary.json`` and prints one Markdown table row, plus the
   names of the mutants that still survive (``mutmut show NAME`` in that directory shows each
   diff).

Not part of ``bash dev.sh test``: a group takes minutes to tens of minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KILLED = {"killed", "timeout", "caught by type check"}  # mutmut statuses that kill a mutant


def is_killed(status: str) -> bool:
    """Whether a status (mutmut's, or a re-check's "... on recheck") counts as killed."""
    return status in KILLED or status in {"killed on recheck", "timeout on recheck"}


def load_config(path: Path) -> dict:
    """The ``[tool.sla_sim.mutation]`` table of ``path``."""
    data = tomllib.loads(path.read_text("utf-8"))
    try:
        return data["tool"]["sla_sim"]["mutation"]
    except KeyError:
        sys.exit(f"mutate: no [tool.sla_sim.mutation] table in {path}")


def toml_list(values: list[str]) -> str:
    """A TOML array of strings (JSON string syntax is valid TOML basic-string syntax)."""
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def prepare(group: str, spec: dict, cfg: dict, workdir: Path, fresh: bool) -> None:
    """Fill the scratch directory of ``group`` with the sources, tests and its config."""
    if fresh and workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in ("sla_sim", "tests"):
        if (workdir / name).exists():
            shutil.rmtree(workdir / name)
        shutil.copytree(ROOT / name, workdir / name, ignore=ignore)
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    text += (
        f"\n# written by tests/mutate.py for the group {group!r}\n[tool.mutmut]\n"
        f'source_paths = ["sla_sim"]\n'
        f"only_mutate = {toml_list(spec['mutate'])}\n"
        f"do_not_mutate = {toml_list(spec.get('do_not_mutate', []))}\n"
        f"pytest_add_cli_args_test_selection = {toml_list(spec['tests'])}\n"
        f"pytest_add_cli_args = {toml_list(cfg.get('pytest_args', []))}\n"
        f"use_git_change_detection = false\n"
        f"timeout_multiplier = {float(cfg.get('timeout_multiplier', 4.0))}\n"
    )
    (workdir / "pyproject.toml").write_text(text, "utf-8")


def refresh_tests(group: str, spec: dict, workdir: Path) -> None:
    """Copy today's tests into an earlier run's scratch directory, so that ``--recheck-only``
    judges its survivors by tests written since. Refused when a mutated file changed since the
    run (its mutants would no longer be mutants of today's code); other changed sources make
    the clean test run fail, which stops the re-check too."""
    import filecmp

    changed = []
    for pattern in spec["mutate"]:
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file() and path.suffix == ".py":
                copy = workdir / path.relative_to(ROOT)
                if not copy.exists() or not filecmp.cmp(path, copy, shallow=False):
                    changed.append(str(path.relative_to(ROOT)))
    if changed:
        sys.exit(f"mutate: {group}: sla_sim changed since that run ({', '.join(changed[:5])});"
                 " run the group afresh instead of --recheck-only")  # fmt: skip
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for dest in (workdir / "tests", workdir / "mutants" / "tests"):
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(ROOT / "tests", dest, ignore=ignore)


def statuses(workdir: Path, env: dict[str, str]) -> dict[str, str]:
    """Mutant name -> mutmut status, from ``mutmut results --all true``."""
    cmd = [sys.executable, "-m", "mutmut", "results", "--all", "true"]
    out = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, check=True)
    found = {}
    for line in out.stdout.splitlines():
        m = re.match(r"\s+(\S+): (.+)$", line)
        if m:
            found[m.group(1)] = m.group(2).strip()
    return found


def pytest_cmd(spec: dict, cfg: dict) -> list[str]:
    """The pytest command of a group's whole test list."""
    return [sys.executable, "-m", "pytest", *cfg.get("pytest_args", []), "-o", "addopts=",
            *spec["tests"]]  # fmt: skip


def recheck(workdir: Path, spec: dict, cfg: dict, names: list[str], env: dict[str, str],
            jobs: int) -> dict[str, str]:  # fmt: skip
    """Run the group's whole test list against each named mutant in a fresh process.

    Returns name -> "killed on recheck", "timeout on recheck" or "survived"."""
    cwd = workdir / "mutants"
    cmd = pytest_cmd(spec, cfg)
    t0 = time.monotonic()
    clean = subprocess.run(cmd, cwd=cwd, env=dict(env, MUTANT_UNDER_TEST=""),
                           capture_output=True, text=True)  # fmt: skip
    if clean.returncode != 0:
        sys.exit(f"mutate: the clean test run fails in {cwd}:\n{clean.stdout[-3000:]}")
    limit = max(120.0, 10 * (time.monotonic() - t0))

    def one(name: str) -> tuple[str, str]:
        try:
            r = subprocess.run(cmd, cwd=cwd, env=dict(env, MUTANT_UNDER_TEST=name),
                               capture_output=True, timeout=limit)  # fmt: skip
        except subprocess.TimeoutExpired:
            return name, "timeout on recheck"
        return name, "survived" if r.returncode == 0 else "killed on recheck"

    out = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for i, (name, status) in enumerate(pool.map(one, names), 1):
            out[name] = status
            print(f"  recheck {i}/{len(names)}: {status}: {name}", flush=True)
    return out


#: One TOML file per group, ``<group>.toml``, listing its equivalent mutants.
EQUIVALENTS = ROOT / "tests" / "mutation_equivalents"


def mutant_diff(workdir: Path, name: str, env: dict[str, str]) -> tuple[str, str]:
    """(removed, added) source lines of one mutant, each stripped and joined by newlines."""
    cmd = [sys.executable, "-m", "mutmut", "show", name]
    out = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True).stdout
    lines = out.splitlines()
    removed = [ln[1:].strip() for ln in lines if ln.startswith("-") and not ln.startswith("---")]
    added = [ln[1:].strip() for ln in lines if ln.startswith("+") and not ln.startswith("+++")]
    return "\n".join(removed), "\n".join(added)


def function_of(name: str) -> str:
    """The mutated function of a mutant name (``module.x_func__mutmut_7`` -> ``module.x_func``)."""
    return name.rsplit("__mutmut_", 1)[0]


def load_equivalents(group: str) -> list[dict[str, str]]:
    """The mutants of ``group`` judged equivalent, from tests/mutation_equivalents/<group>.toml
    (an array of tables ``[[equivalent]]``): each names the mutated function (as in mutmut's
    mutant names, without ``__mutmut_N``), the source line before and after (as ``mutmut show``
    prints them, stripped) and a one-line reason."""
    path = EQUIVALENTS / f"{group}.toml"
    if not path.exists():
        return []
    entries = tomllib.loads(path.read_text("utf-8")).get("equivalent", [])
    for e in entries:
        missing = {"function", "before", "after", "reason"} - set(e)
        if missing:
            sys.exit(f"mutate: {path}: an entry lacks {sorted(missing)}: {e}")
    return entries


def mark_equivalents(group: str, workdir: Path, found: dict[str, str], env: dict[str, str]
                     ) -> dict[str, str]:  # fmt: skip
    """Survivors matching a listed equivalent mutant -> "equivalent". A listed mutant that no
    test run left alive is reported (it is killed, so it was not equivalent, or it is gone)."""
    entries = load_equivalents(group)
    if not entries:
        return {}
    keyed = {(e["function"], e["before"].strip(), e["after"].strip()): e for e in entries}
    listed = {k[0] for k in keyed}
    wanted = [name for name, status in found.items()
              if status in {"survived", "no tests"} and function_of(name) in listed]  # fmt: skip
    cache_path = workdir / "diffs.json"  # a run's mutants never change: keep their diffs
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    missing = [n for n in wanted if n not in cache]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for name, diff in zip(missing, pool.map(lambda n: mutant_diff(workdir, n, env), missing),
                              strict=True):  # fmt: skip
            cache[name] = list(diff)
    if missing:
        cache_path.write_text(json.dumps(cache))
    out, used = {}, set()
    for name in wanted:
        before, after = cache[name]
        key = (function_of(name), before, after)
        if key in keyed:
            out[name] = "equivalent"
            used.add(key)
    for key in keyed.keys() - used:
        print(f"mutate: {group}: listed as equivalent but not a survivor of this run:"
              f" {key[0]}: {key[1]!r} -> {key[2]!r}", file=sys.stderr)  # fmt: skip
    return out


def sample_estimate(found: dict[str, str], sampled: list[str]) -> dict:
    """Score of non-equivalent mutants when the run tested only part of them: the mutants
    mutmut tested (it tests the quickest functions first, so they are no random sample) count
    exactly, and a random sample of the untested ones stands for the rest (stratified
    estimate; the 95% range comes from the Wilson interval of the sample's kill rate)."""
    import math

    in_sample = set(sampled)
    done = {k: s for k, s in found.items() if k not in in_sample and s != "not checked"}
    n_rest = sum(1 for s in found.values() if s == "not checked") + len(in_sample)
    killed_a = sum(1 for s in done.values() if is_killed(s))
    noneq_a = sum(1 for s in done.values() if s != "equivalent")
    ks = sum(1 for k in sampled if is_killed(found[k]))
    es = sum(1 for k in sampled if found[k] == "equivalent")
    ns = len(sampled) - es  # non-equivalent mutants in the sample
    if not sampled or ns == 0:
        return {}
    z = 1.959964
    p = ks / ns
    centre = (p + z * z / (2 * ns)) / (1 + z * z / ns)
    half = z * math.sqrt(p * (1 - p) / ns + z * z / (4 * ns * ns)) / (1 + z * z / ns)
    noneq_rest = n_rest * ns / len(sampled)

    def total(rate: float) -> float:
        return (killed_a + noneq_rest * rate) / (noneq_a + noneq_rest)

    return {"tested_exactly": len(done), "untested": n_rest, "sample": len(sampled),
            "sample_killed": ks, "sample_equivalent": es,
            "estimate": total(p), "low": total(max(0.0, centre - half)),
            "high": total(min(1.0, centre + half))}  # fmt: skip


def summarise(group: str, found: dict[str, str], seconds: float,
              sampled: list[str] | None = None) -> dict:  # fmt: skip
    """Counts and score of one group (score = killed / (mutants - not run)); statuses from
    :func:`recheck` override mutmut's."""
    counts: dict[str, int] = {}
    for status in found.values():
        counts[status] = counts.get(status, 0) + 1
    killed = sum(n for s, n in counts.items() if is_killed(s))
    by_mutmut = sum(n for s, n in counts.items() if s in KILLED)
    not_run = sum(counts.get(s, 0) for s in ("skipped", "check was interrupted by user",
                                               "not checked"))  # fmt: skip
    judged = len(found) - not_run
    equivalent = counts.get("equivalent", 0)
    return {
        "group": group,
        "mutants": len(found),
        "killed": killed,
        "killed_by_mutmut": by_mutmut,
        "killed_on_recheck": killed - by_mutmut,
        "survived": counts.get("survived", 0),
        "no_tests": counts.get("no tests", 0),
        "other": {s: n for s, n in counts.items()
                  if s not in KILLED | {"survived", "no tests", "equivalent"}
                  and "recheck" not in s},
        "equivalent": equivalent,
        "score": killed / judged if judged else float("nan"),
        "score_non_equivalent": (killed / (judged - equivalent) if judged > equivalent
                                 else float("nan")),
        "seconds": round(seconds),
        "not_checked": counts.get("not checked", 0),
        "surviving": sorted(k for k, s in found.items() if s in {"survived", "no tests"}),
        "rechecked": {k: s for k, s in found.items() if "recheck" in s and k not in
                      set(sampled or ())},
        "sampled": {k: found[k] for k in sampled or ()},
        "sample_estimate": sample_estimate(found, sampled or []),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dev.sh mutate", description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", help="module groups (default: all)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATE_JOBS", "2")),
                        help="mutants tested in parallel (default 2, or $MUTATE_JOBS)")
    parser.add_argument("--resume", action="store_true",
                        help="keep earlier results of unchanged functions (default: start afresh)")
    parser.add_argument("--list", action="store_true", help="list the groups and exit")
    parser.add_argument("--recheck-only", action="store_true",
                        help="skip mutmut run; re-check the survivors of an earlier run against"
                        " today's tests (the sources must be unchanged since that run)")
    parser.add_argument("--no-recheck", action="store_true",
                        help="report mutmut's statuses as they are (no re-check of survivors)")
    parser.add_argument("--summary-only", action="store_true",
                        help="skip mutmut run and re-check: summarise what an earlier (perhaps "
                        "interrupted) run measured; untested mutants are counted apart")
    parser.add_argument("--sample", type=int, default=0, metavar="N",
                        help="when mutants were never run (an interrupted run), test a random"
                        " sample of N of them against the group's whole test list and estimate"
                        " the score of the rest from it")
    parser.add_argument("--sample-seed", type=int, default=20261129)
    parser.add_argument("--config", type=Path, default=ROOT / "pyproject.toml")
    args = parser.parse_args(argv)
    cfg = load_config(args.config)
    modules: dict[str, dict] = cfg["modules"]
    if args.list:
        for name, spec in modules.items():
            print(f"{name}: mutate {' '.join(spec['mutate'])}; tests {' '.join(spec['tests'])}")
        return 0
    unknown = [g for g in args.groups if g not in modules]
    if unknown:
        print(f"mutate: unknown group(s) {unknown}; known: {sorted(modules)}", file=sys.stderr)
        return 2
    env = dict(os.environ, SLA_SIM_HYPOTHESIS_PROFILE="ci", PYTHONHASHSEED="0")
    rows = []
    for group in args.groups or list(modules):
        spec = modules[group]
        workdir = ROOT / cfg.get("workdir", "build/mutation") / group
        t0 = time.monotonic()
        if not (args.recheck_only or args.summary_only):
            prepare(group, spec, cfg, workdir, fresh=not args.resume)
            print(f"mutate: {group}: mutmut run in {workdir.relative_to(ROOT)}", flush=True)
            run = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children",
                                  str(args.jobs)], cwd=workdir, env=env)  # fmt: skip
            if run.returncode != 0:
                print(f"mutate: mutmut run failed for {group} (exit {run.returncode})",
                      file=sys.stderr)  # fmt: skip
                return 1
        sampled_before: list[str] = []
        if args.recheck_only:
            refresh_tests(group, spec, workdir)
        found = statuses(workdir, env)
        left = sorted(k for k, v in found.items() if v in {"survived", "no tests"})
        if args.recheck_only:  # killed on an earlier re-check: the same tests still kill it
            earlier = workdir / "summary.json"
            if earlier.exists():
                done = {k: s for k, s in json.loads(earlier.read_text()).get("rechecked",
                                                                            {}).items()
                        if s.startswith("killed")}  # fmt: skip
                found |= done
                left = [k for k in left if k not in done]
        if not (args.no_recheck or args.summary_only):
            print(f"mutate: {group}: re-checking {len(left)} survivors", flush=True)
            found |= recheck(workdir, spec, cfg, left, env, args.jobs)
        elif args.summary_only:  # keep the re-check results an earlier run saved
            old = workdir / "summary.json"
            if old.exists():
                kept = json.loads(old.read_text())
                found |= kept.get("rechecked", {})
                found |= kept.get("sampled", {})
                sampled_before = list(kept.get("sampled", {}))
        sampled: list[str] = sampled_before
        if args.sample:
            untested = sorted(k for k, v in found.items() if v == "not checked")
            import random

            sampled = random.Random(args.sample_seed).sample(untested,
                                                             min(args.sample, len(untested)))
            print(f"mutate: {group}: {len(untested)} mutants never run; testing a random"
                  f" sample of {len(sampled)} (seed {args.sample_seed})", flush=True)
            found |= recheck(workdir, spec, cfg, sampled, env, args.jobs)
        found |= mark_equivalents(group, workdir, found, env)
        summary = summarise(group, found, time.monotonic() - t0, sampled)
        (workdir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        rows.append(summary)
    print("\n| group | mutants | not run | killed by mutmut | killed on re-check | survived |"
          " no tests | equivalent | score | score of non-equivalent |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for s in rows:
        print(f"| {s['group']} | {s['mutants']} | {s['not_checked']} | {s['killed_by_mutmut']} |"
              f" {s['killed_on_recheck']} | {s['survived']} | {s['no_tests']} |"
              f" {s['equivalent']} | {100 * s['score']:.1f}% |"
              f" {100 * s['score_non_equivalent']:.1f}% |")
    for s in rows:
        est = s.get("sample_estimate")
        if est:
            print(f"\n{s['group']}: {est['tested_exactly']} mutants tested in full,"
                  f" {est['untested']} untested, of which a random {est['sample']} were"
                  f" tested ({est['sample_killed']} killed, {est['sample_equivalent']}"
                  f" equivalent): estimated score of non-equivalent mutants"
                  f" {100 * est['estimate']:.1f}% (95% range {100 * est['low']:.1f}-"
                  f"{100 * est['high']:.1f}%)")  # fmt: skip
    for s in rows:
        if s["surviving"]:
            print(f"\n{s['group']}: {len(s['surviving'])} surviving (see `mutmut show NAME` in "
                  f"build/mutation/{s['group']}):")  # fmt: skip
            for name in s["surviving"]:
                print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
