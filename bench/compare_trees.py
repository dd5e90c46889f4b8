"""Before/after of a change on a shared machine: two ESS source trees and the bare app measured round by round.

    git archive <commit> | tar -x -C /tmp/before
    .venv/bin/python bench/compare_trees.py /tmp/before [--rounds 5] [--requests 200]

Starts one `ess serve` from the source tree given (PYTHONPATH, so this venv's packages serve both), one from this
checkout and `bench/bare_app.py`, then measures server CPU per request (as bench/request_overhead.py does) of the
balance API and the /vacation page on each (and of the bare app's `/ess-page`: each tree's vacation.html with the
context of one of its real requests, in a bare app of its own), interleaved, for `--rounds` rounds, and prints the
medians and ratios.
Interleaving matters here: neighbours' load moves absolute figures by a factor of two within minutes, but it moves
both trees alike in the same round. It asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from request_overhead import bearer, cpu_per_request, session_cookie, start_bare  # noqa: E402

from tests.harness.ess_processes import EssCluster, stop  # noqa: E402


def start(source: str | None) -> tuple[subprocess.Popen[bytes], str, EssCluster]:
    """`ess serve` on a fresh demo database, from `source` (a tree with an `ess` package) or this checkout."""
    # Always named, in every process of the cluster (the bare app rendering its page too): without it `python -m
    # ess.cli` imports the `ess` the venv was installed from (an editable install of another checkout).
    workdir = Path(tempfile.mkdtemp(prefix="ess-compare-"))
    cluster = EssCluster(
        workdir,
        f"sqlite+aiosqlite:///{workdir}/ess.db",
        store="file",
        extra_env={"PYTHONPATH": source or str(BENCH.parent)},
    )
    cluster.prepare()
    return (*cluster.start(0), cluster)


def main(before: str, rounds: int, requests: int) -> None:
    old, old_url, old_cluster = start(before)
    new, new_url, cluster = start(None)
    bare, bare_url = start_bare(Path(tempfile.mkdtemp(prefix="bare-")))
    # Each tree's vacation.html with the context of one of its real requests, in a bare app of its own (see
    # bare_app.py), so ESS's modules do not sit in the plain bare app.
    same, same_url = start_bare(
        Path(tempfile.mkdtemp(prefix="bare-same-")), ess_page=(cluster, session_cookie(new_url)["Cookie"])
    )
    same_old, same_old_url = start_bare(
        Path(tempfile.mkdtemp(prefix="bare-same-before-")), ess_page=(old_cluster, session_cookie(old_url)["Cookie"])
    )
    figures: dict[str, list[float]] = {}
    try:
        cases = {
            "API before": (old.pid, f"{old_url}/api/v1/me/vacation/balance", bearer(old_url), requests),
            "API after": (new.pid, f"{new_url}/api/v1/me/vacation/balance", bearer(new_url), requests),
            "bare JSON": (bare.pid, f"{bare_url}/json", {}, requests * 5),
            "page before": (old.pid, f"{old_url}/vacation", session_cookie(old_url), requests),
            "page after": (new.pid, f"{new_url}/vacation", session_cookie(new_url), requests),
            "bare page": (bare.pid, f"{bare_url}/page", {}, requests * 5),
            "bare same template before": (same_old.pid, f"{same_old_url}/ess-page", {}, requests * 2),
            "bare same template": (same.pid, f"{same_url}/ess-page", {}, requests * 2),
        }
        for number in range(rounds):
            for name, (pid, url, headers, count) in cases.items():
                figures.setdefault(name, []).append(cpu_per_request(pid, url, headers, count))
            print(f"round {number + 1}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in figures.items()), flush=True)
    finally:
        for process in (old, new, bare, same, same_old):
            stop(process)
    median = {name: statistics.median(values) for name, values in figures.items()}
    print("median CPU ms per request: " + ", ".join(f"{k} {v:.2f}" for k, v in median.items()))
    for kind, bare_name in (("API", "bare JSON"), ("page", "bare page")):
        before_ms, after_ms, bare_ms = median[f"{kind} before"], median[f"{kind} after"], median[bare_name]
        print(
            f"{kind}: before {before_ms / bare_ms:.1f}x bare, after {after_ms / bare_ms:.1f}x bare, "
            f"after/before {after_ms / before_ms:.2f}"
        )
    same_before, same_after = median["bare same template before"], median["bare same template"]
    print(
        f"page against a bare app rendering the same template with the same context: before "
        f"{median['page before'] / same_before:.1f}x, after {median['page after'] / same_after:.1f}x; "
        f"the template alone: before {same_before / median['bare page']:.1f}x, after "
        f"{same_after / median['bare page']:.1f}x the bare page, after/before {same_after / same_before:.2f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", help="a source tree of ESS (e.g. from git archive) to compare this checkout with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    arguments = parser.parse_args()
    main(arguments.before, arguments.rounds, arguments.requests)
