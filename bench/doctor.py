"""Precision and recall of `mcpgen doctor`: over servers nobody here wrote, and over the planted faults.

Run: python bench/doctor.py

Starts the corpus of tests/corpus.py on loopback (the official Python SDK and stock fastmcp in their
modes and behind their own OAuth stacks, the TypeScript SDK's example servers and its OAuth
demo, server-everything), lets the real clients judge each one (the Python and TypeScript SDK
clients, signing in where asked, the TypeScript one once more with an expired token; an MCP session
by fetch() in Chromium at the Inspector's origin; claude.ai as the native clients plus its token
parser per the field guide), runs the doctor with --client all (and --login on the OAuth servers),
and prints per server what each client did and what the doctor said, then the score over the corpus
and tests/broken_servers.py's planted faults: FAIL lines, true, false (a FAIL for a client that
works, or a FAIL a planted fault does not explain) and missed (a client that fails with no FAIL for
it, or a planted fault not reported at its severity). tests/test_corpus.py asserts the same
numbers: 0 false, 0 missed.

Measured (2026-11-28, 12 corpus servers and 15 planted faults): FAIL lines 39, true 39, false 0,
missed 0. On the corpus 24: 22 CORS for the browser client (Chromium confirms each), and on the TS
SDK's OAuth demo token_type "bearer" (claude.ai) and a 500 for an expired token (every client: the
TypeScript client, reconnecting with one, fails there). Before the OAuth servers joined: 31 lines
(16 on nine servers), 31 true. Before #14 (commit 41be104) the nine servers drew 48 FAIL lines, 32
of them false, and exit 1 on each.
"""

from __future__ import annotations

import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcpgen.doctor.report import Status
from tests import corpus
from tests.test_corpus import install_packages, observe, scorecard


def main() -> None:
    packages = install_packages()
    with tempfile.TemporaryDirectory() as workdir, ExitStack() as stack:
        running = {}
        for server in corpus.SERVERS:
            started = corpus.start(server, packages, Path(workdir))
            stack.callback(corpus.stop, started)
            running[server.name] = started
        for started in running.values():
            corpus.wait_listening(started)
        observed = observe(running, packages)
        for name, seen in observed.items():
            clients = ", ".join(f"{client} {'works' if works else 'fails'}" for client, works in seen.works.items())
            counts = seen.report.counts
            print(f"{name:18} {clients}; doctor: {counts['fail']} fail, {counts['warn']} warn")
            for check in seen.report.checks():
                if check.status in (Status.FAIL, Status.WARN):
                    breaks = f" (breaks {', '.join(check.breaks)})" if check.breaks else ""
                    print(f"    {check.status.value} {check.id}{breaks}: {check.detail[:110]}")
        print()
        print(scorecard(observed).summary())


if __name__ == "__main__":
    main()
