"""finsandbox's Kubernetes launcher: trusted, it runs before any strategy byte.

The init container's entry point. It does what `docker run` and the host do
around the harness in a local run: set the rlimits of `--ulimit` (Kubernetes
has no field for them), feed the harness its two request lines (the setup,
then the strategy, both rendered into the ConfigMap), send the harness's
frames to the shared volume, and kill it at the backstop deadline. It always
exits 0, so the trusted scorer container runs and reports whatever happened;
everything it leaves in /work is as untrusted as the strategy.

argv: SECONDS FSIZE NOFILE NPROC
"""

import os
import resource
import subprocess
import sys

CONFIG = "/finsandbox"
WORK = "/work"


def main(argv):
    seconds, fsize, nofile, nproc = (int(a) for a in argv[1:5])
    for limit, value in (
        (resource.RLIMIT_NOFILE, nofile),
        (resource.RLIMIT_NPROC, nproc),
        (resource.RLIMIT_FSIZE, fsize),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(limit, (value, value))
    index = os.environ.get("JOB_COMPLETION_INDEX")
    name = "strategy.json" if index is None else "strategy-%d.json" % int(index)
    with open(os.path.join(CONFIG, "harness.py"), encoding="utf-8") as f:
        harness = f.read()
    with open(os.path.join(CONFIG, "setup.json"), "rb") as f:
        request = f.read()
    with open(os.path.join(CONFIG, name), "rb") as f:
        request += f.read()
    command = ["timeout", "--signal=KILL", "%ds" % seconds, sys.executable, "-I", "-B", "-c", harness]
    with open(os.path.join(WORK, "frames"), "wb") as frames:
        try:
            code = subprocess.run(command, input=request, stdout=frames, check=False).returncode
        except OSError as err:
            sys.stderr.write("launcher: %s\n" % err)
            code = 127
    with open(os.path.join(WORK, "exit-code"), "w", encoding="ascii") as f:
        f.write("%d\n" % code)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
