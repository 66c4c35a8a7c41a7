# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_finsandbox_global_optspecs
    string join \n json q/quiet engine= h/help V/version
end

function __fish_finsandbox_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_finsandbox_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_finsandbox_using_subcommand
    set -l cmd (__fish_finsandbox_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c finsandbox -n "__fish_finsandbox_needs_command" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_needs_command" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_needs_command" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_needs_command" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_needs_command" -s V -l version -d 'Print version'
complete -c finsandbox -n "__fish_finsandbox_needs_command" -f -a "exec" -d 'Run one strategy in the sandbox and report the result'
complete -c finsandbox -n "__fish_finsandbox_needs_command" -f -a "batch" -d 'Run many strategies: screened first, then `--jobs` containers at a time, one JSON line each. `batch submit|status|collect|cancel` hand the batch to Slurm'
complete -c finsandbox -n "__fish_finsandbox_needs_command" -f -a "validate" -d 'Screen strategy sources (tree-sitter, allow-list) without running them'
complete -c finsandbox -n "__fish_finsandbox_needs_command" -f -a "cleanup" -d 'Remove containers left behind by runs that died (only ours, by label)'
complete -c finsandbox -n "__fish_finsandbox_needs_command" -f -a "doctor" -d 'Check the engine, image and profile, and run the escape self-test on each runtime'
complete -c finsandbox -n "__fish_finsandbox_needs_command" -f -a "data" -d 'Market data: write the synthetic sample, or import a CSV'
complete -c finsandbox -n "__fish_finsandbox_needs_command" -f -a "image" -d 'Build or inspect the sandbox image'
complete -c finsandbox -n "__fish_finsandbox_needs_command" -f -a "config" -d 'Show the effective configuration, or write a commented config file'
complete -c finsandbox -n "__fish_finsandbox_needs_command" -f -a "k8s" -d 'Render Kubernetes objects for a strategy (a Pod) or a batch (an Indexed Job)'
complete -c finsandbox -n "__fish_finsandbox_needs_command" -f -a "seccomp" -d 'Show the embedded seccomp profile (for auditors)'
complete -c finsandbox -n "__fish_finsandbox_needs_command" -f -a "generate" -d 'Generate shell completions or the man page (used by packaging)'
complete -c finsandbox -n "__fish_finsandbox_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l data -d 'Market data: a Parquet file in long layout (date, symbol, fields...)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l config -d 'Config file (default: `FINSANDBOX_CONFIG`, `./finsandbox.yaml`, `./config/docker_config.yaml`, the user\'s, the system\'s; `config show` says which)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l image -d 'Sandbox image of the strategy\'s container' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l memory -d 'Memory limit per strategy, e.g. `512m`, `2g` (no swap: the same value; on Kubernetes requests = limits)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l cpus -d 'CPU limit per strategy in CPUs, e.g. `0.5`' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l timeout -d 'Wall-clock limit per strategy, in seconds' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l pids-limit -d 'Maximum number of processes and threads in the container' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l network -d 'Network mode; anything but `none` needs `--allow-insecure`' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l seccomp-profile -d 'Seccomp profile (JSON file)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l runtime -d 'OCI runtime registered with the engine, e.g. `runsc`' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l equity-out -d 'Write the daily equity curve computed on the host (CSV, or Parquet for `*.parquet`)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l start -d 'The strategy\'s pre-bound `start_date` (YYYY-MM-DD; default: the price data\'s first date)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l end -d 'The strategy\'s pre-bound `end_date` (YYYY-MM-DD; default: the price data\'s last date)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l metrics-textfile -d 'After the run, update the counters in DIR and rewrite `DIR/finsandbox.prom` (node_exporter\'s textfile collector; config `metrics.textfile_dir`)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l audit-log -d 'Append one JSON line per run (provenance, verdict, user, host) to FILE (config `audit.log`)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l writable-root -d 'Make the root filesystem writable (needs `--allow-insecure`)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l allow-insecure -d 'Accept weakened settings (network, writable root, swap); recorded in the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l keep-container -d 'Keep the stopped container for debugging instead of removing it'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l skip-screening -d 'Skip source screening (to test the container layer); recorded in the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l no-runtime-policy -d 'Run without the in-interpreter runtime policy (to test the layers below it); recorded in the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l self-test -d 'Run the escape self-test (a canary container) first; refuse to run if anything escapes'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand exec" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l data -d 'Market data: a Parquet file in long layout, or a directory of tables' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -s j -l jobs -d 'Strategies running at a time, each with a warm successor (default: the number of CPUs)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l out -d 'Append one JSON line per strategy to this file (safe with concurrent writers)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l config -d 'Config file (default: `FINSANDBOX_CONFIG`, `./finsandbox.yaml`, `./config/docker_config.yaml`, the user\'s, the system\'s; `config show` says which)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l image -d 'Sandbox image of the strategy\'s container' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l memory -d 'Memory limit per strategy, e.g. `512m`, `2g` (no swap: the same value; on Kubernetes requests = limits)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l cpus -d 'CPU limit per strategy in CPUs, e.g. `0.5`' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l timeout -d 'Wall-clock limit per strategy, in seconds' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l start -d '`start_date` as strategies see it (YYYY-MM-DD; default: the data\'s first date)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l end -d '`end_date` as strategies see it (YYYY-MM-DD; default: the data\'s last date)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l runtime -d 'OCI runtime registered with the engine, e.g. `runsc`' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l metrics-textfile -d 'After the run, update the counters in DIR and rewrite `DIR/finsandbox.prom` (node_exporter\'s textfile collector; config `metrics.textfile_dir`)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l audit-log -d 'Append one JSON line per run (provenance, verdict, user, host) to FILE (config `audit.log`)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l metrics-listen -d 'Also serve the metrics live at `http://ADDR/metrics` while the batch runs (loopback only)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l resume -d 'Skip strategies whose (source, data, effective config) already have a line in `--out`'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l fail-fast -d 'Stop starting new strategies after the first one that is not `ok`'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l skip-screening -d 'Skip source screening (to test the container layer); recorded in every result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -a "submit" -d 'Shard the strategies and submit them as a Slurm job array (or resubmit what has no result)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -a "status" -d 'Per shard: pending, running, done or failed, and how many strategies are done'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -a "collect" -d 'Merge the shards\' lines: one per strategy, in input order. Exit 5 when some are missing'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -a "cancel" -d 'Cancel the run\'s jobs (`scancel`), then remove every container of the run left on this host'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -a "worker" -d 'One shard on this node\'s engine: what each array task runs'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and not __fish_seen_subcommand_from submit status collect cancel worker help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l backend -d 'The scheduler' -r -f -a "slurm\t''"
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l data -d 'Market data (on a file system every node shares)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l run-dir -d 'A new run directory (on a file system every node shares)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l resume -d 'Resubmit the shards of this run directory that are neither done nor queued; only strategies without a result line run' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l shard-size -d 'Strategies per array task' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l array-parallel -d 'Array tasks running at once (`--array=...%N`; default: as many as Slurm allows)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -s j -l jobs -d 'Containers at a time in each array task' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l sbatch-arg -d 'An extra `sbatch` argument (repeatable), e.g. `--sbatch-arg=--partition=research`' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l config -d 'Config file' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l image -d 'Sandbox image' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l memory -d 'Memory limit per container, e.g. `512m` (the job\'s `--mem` covers it)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l cpus -d 'CPU limit per container' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l timeout -d 'Wall-clock limit per strategy, in seconds' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l start -d '`start_date` as strategies see it (YYYY-MM-DD)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l end -d '`end_date` as strategies see it (YYYY-MM-DD)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l runtime -d 'OCI runtime registered with the engine, e.g. `runsc`' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l skip-screening -d 'Skip source screening; recorded in every result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from submit" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from status" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from status" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from collect" -l out -d 'Write the lines here (default: stdout)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from collect" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from collect" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from collect" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from collect" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from cancel" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from cancel" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from cancel" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from cancel" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from worker" -l run-dir -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from worker" -l shard -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from worker" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from worker" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from worker" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from worker" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from help" -f -a "submit" -d 'Shard the strategies and submit them as a Slurm job array (or resubmit what has no result)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from help" -f -a "status" -d 'Per shard: pending, running, done or failed, and how many strategies are done'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from help" -f -a "collect" -d 'Merge the shards\' lines: one per strategy, in input order. Exit 5 when some are missing'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from help" -f -a "cancel" -d 'Cancel the run\'s jobs (`scancel`), then remove every container of the run left on this host'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from help" -f -a "worker" -d 'One shard on this node\'s engine: what each array task runs'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand batch; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand validate" -l format -d 'Output format (`--json` is the same as `--format json`)' -r -f -a "text\t''
json\t''
sarif\t''"
complete -c finsandbox -n "__fish_finsandbox_using_subcommand validate" -l config -d 'Config file for `screening:` settings' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand validate" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand validate" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand validate" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand validate" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand cleanup" -l older-than -d 'Only containers at least this old (`90s`, `30m`, `2h`, `1d`)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand cleanup" -l metrics-textfile -d 'Set the `finsandbox_orphans` gauge (orphans found) and add the removed ones to the reaped counter in `DIR/finsandbox.prom`' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand cleanup" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand cleanup" -l dry-run -d 'Show what would be removed, remove nothing'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand cleanup" -l all -d 'Every container of ours, whether its owner still runs or not'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand cleanup" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand cleanup" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand cleanup" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand doctor" -l runtime -d 'Test only these runtimes (default: every runtime the engine offers)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand doctor" -l config -d 'Config file (limits and profile used for the self-test)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand doctor" -l backend -d 'Run the checks on a compute node instead: `slurm` submits them as a job (output in the working directory, which nodes must share) and refuses the cluster (exit 3) unless the node\'s self-test passes' -r -f -a "slurm\t''"
complete -c finsandbox -n "__fish_finsandbox_using_subcommand doctor" -l sbatch-arg -d 'An extra `sbatch` argument for that job (repeatable), e.g. `--sbatch-arg=--partition=research`' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand doctor" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand doctor" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand doctor" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and not __fish_seen_subcommand_from sample import help" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and not __fish_seen_subcommand_from sample import help" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and not __fish_seen_subcommand_from sample import help" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and not __fish_seen_subcommand_from sample import help" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and not __fish_seen_subcommand_from sample import help" -f -a "sample" -d 'Write a deterministic synthetic dataset (a directory: daily prices, monthly revenue, quarterly fundamentals)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and not __fish_seen_subcommand_from sample import help" -f -a "import" -d 'Convert a long CSV (date,symbol,fields...) to Parquet'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and not __fish_seen_subcommand_from sample import help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and __fish_seen_subcommand_from sample" -l symbols -d 'Number of symbols' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and __fish_seen_subcommand_from sample" -l years -d 'Years of daily data, from 2018' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and __fish_seen_subcommand_from sample" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and __fish_seen_subcommand_from sample" -l finlab -d 'Write the dataset shaped like finlab\'s own: tables `price`, `etl`, `monthly_revenue`, `fundamental_features`, ... with finlab\'s Chinese column names'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and __fish_seen_subcommand_from sample" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and __fish_seen_subcommand_from sample" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and __fish_seen_subcommand_from sample" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and __fish_seen_subcommand_from import" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and __fish_seen_subcommand_from import" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and __fish_seen_subcommand_from help" -f -a "sample" -d 'Write a deterministic synthetic dataset (a directory: daily prices, monthly revenue, quarterly fundamentals)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and __fish_seen_subcommand_from help" -f -a "import" -d 'Convert a long CSV (date,symbol,fields...) to Parquet'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand data; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand image; and not __fish_seen_subcommand_from build help" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand image; and not __fish_seen_subcommand_from build help" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand image; and not __fish_seen_subcommand_from build help" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand image; and not __fish_seen_subcommand_from build help" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand image; and not __fish_seen_subcommand_from build help" -f -a "build" -d 'Build the sandbox image (skipped when a current one exists, unless --force)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand image; and not __fish_seen_subcommand_from build help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand image; and __fish_seen_subcommand_from build" -l method -d 'How to build: offline with debootstrap, or from a Dockerfile (needs a registry)' -r -f -a "debootstrap\t'Offline: debootstrap + pip wheels + `docker import` (no registry)'
dockerfile\t'`docker build` from a digest-pinned python:3.11-slim base (needs a registry)'"
complete -c finsandbox -n "__fish_finsandbox_using_subcommand image; and __fish_seen_subcommand_from build" -l tag -d 'Image tag to create' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand image; and __fish_seen_subcommand_from build" -l mirror -d 'Debian mirror for debootstrap' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand image; and __fish_seen_subcommand_from build" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand image; and __fish_seen_subcommand_from build" -l force -d 'Rebuild even when a current image exists'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand image; and __fish_seen_subcommand_from build" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand image; and __fish_seen_subcommand_from build" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand image; and __fish_seen_subcommand_from build" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "build" -d 'Build the sandbox image (skipped when a current one exists, unless --force)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and not __fish_seen_subcommand_from show init help" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and not __fish_seen_subcommand_from show init help" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and not __fish_seen_subcommand_from show init help" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and not __fish_seen_subcommand_from show init help" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and not __fish_seen_subcommand_from show init help" -f -a "show" -d 'Every effective setting, its value, and where it came from (default, file, variable, flag)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and not __fish_seen_subcommand_from show init help" -f -a "init" -d 'Write a commented config file restating the defaults'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and not __fish_seen_subcommand_from show init help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and __fish_seen_subcommand_from show" -l config -d 'Config file (default: the first of ./finsandbox.yaml, ./config/docker_config.yaml, $XDG_CONFIG_HOME/finsandbox/config.yaml, /etc/finsandbox/config.yaml)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and __fish_seen_subcommand_from show" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and __fish_seen_subcommand_from show" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and __fish_seen_subcommand_from init" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and __fish_seen_subcommand_from init" -l force -d 'Overwrite an existing file'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and __fish_seen_subcommand_from init" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and __fish_seen_subcommand_from init" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Every effective setting, its value, and where it came from (default, file, variable, flag)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "init" -d 'Write a commented config file restating the defaults'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and not __fish_seen_subcommand_from render score help" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and not __fish_seen_subcommand_from render score help" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and not __fish_seen_subcommand_from render score help" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and not __fish_seen_subcommand_from render score help" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and not __fish_seen_subcommand_from render score help" -f -a "render" -d 'Print the objects that run a strategy or a batch on a cluster (for `kubectl apply`)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and not __fish_seen_subcommand_from render score help" -f -a "score" -d 'Score what a rendered Pod\'s strategy container left (the Pod\'s trusted `score` container runs this)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and not __fish_seen_subcommand_from render score help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l manifest -d 'With `--batch`: a run directory with `manifest.json`, a directory of `*.py`, a manifest `.json`, or a file listing one strategy path per line' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l data-pvc -d 'The PersistentVolumeClaim holding the market data (mounted read-only)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l data-subpath -d 'A file or directory inside the claim to mount instead of its root (`subPath`)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l runtime-class -d 'RuntimeClass for the Pod, e.g. `gvisor` (rendered too, with `--runtime-handler`)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l runtime-handler -d 'The CRI handler of `--runtime-class`' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l k8s-version -d 'The Kubernetes version to render for (1.29 to 1.37)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -s o -l output -d 'Output format: YAML documents, or a JSON `List` (`--json` prints finsandbox\'s own document instead: the objects and `hardening.gaps`)' -r -f -a "yaml\t''
json\t''"
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -s n -l namespace -d 'Namespace of the namespaced objects (default: kubectl\'s current one)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l seccomp-localhost-profile -d 'The seccomp profile\'s path under the kubelet\'s seccomp root on every node' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l scorer-image -d 'Image of the trusted scorer container (holds the finsandbox binary)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l parallelism -d 'With `--batch`: Pods at a time (default: all)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l config -d 'Config file (default: `FINSANDBOX_CONFIG`, `./finsandbox.yaml`, `./config/docker_config.yaml`, the user\'s, the system\'s; `config show` says which)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l image -d 'Sandbox image of the strategy\'s container' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l memory -d 'Memory limit per strategy, e.g. `512m`, `2g` (no swap: the same value; on Kubernetes requests = limits)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l cpus -d 'CPU limit per strategy in CPUs, e.g. `0.5`' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l timeout -d 'Wall-clock limit per strategy, in seconds' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l batch -d 'Render an Indexed Job for the strategies of `--manifest`'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from render" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from score" -l work -d 'The shared volume the strategy container wrote (`frames`, `exit-code`); read as untrusted' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from score" -l config-dir -d 'The rendered ConfigMap\'s files (`settings.json`, the strategy lines)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from score" -l data -d 'The market data the strategy saw (the claim\'s mount)' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from score" -l index -d 'A batch\'s completion index (default: `JOB_COMPLETION_INDEX`; unset: a single strategy)' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from score" -l termination-log -d 'Where the kubelet reads the termination message (at most 4096 bytes); skipped when absent' -r -F
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from score" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from score" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from score" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from score" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from help" -f -a "render" -d 'Print the objects that run a strategy or a batch on a cluster (for `kubectl apply`)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from help" -f -a "score" -d 'Score what a rendered Pod\'s strategy container left (the Pod\'s trusted `score` container runs this)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand k8s; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand seccomp; and not __fish_seen_subcommand_from show help" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand seccomp; and not __fish_seen_subcommand_from show help" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand seccomp; and not __fish_seen_subcommand_from show help" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand seccomp; and not __fish_seen_subcommand_from show help" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand seccomp; and not __fish_seen_subcommand_from show help" -f -a "show" -d 'Print the embedded profile (JSON) on stdout; its sha256 on stderr'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand seccomp; and not __fish_seen_subcommand_from show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand seccomp; and __fish_seen_subcommand_from show" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand seccomp; and __fish_seen_subcommand_from show" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand seccomp; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand seccomp; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand seccomp; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the embedded profile (JSON) on stdout; its sha256 on stderr'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand seccomp; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and not __fish_seen_subcommand_from completions man help" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and not __fish_seen_subcommand_from completions man help" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and not __fish_seen_subcommand_from completions man help" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and not __fish_seen_subcommand_from completions man help" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and not __fish_seen_subcommand_from completions man help" -f -a "completions" -d 'Shell completions on stdout'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and not __fish_seen_subcommand_from completions man help" -f -a "man" -d 'The man page (roff) on stdout'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and not __fish_seen_subcommand_from completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and __fish_seen_subcommand_from completions" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and __fish_seen_subcommand_from completions" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and __fish_seen_subcommand_from completions" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and __fish_seen_subcommand_from completions" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and __fish_seen_subcommand_from man" -l engine -d 'Container engine CLI: `docker` (default), `podman`, or a path' -r
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and __fish_seen_subcommand_from man" -l json -d 'Print one JSON object on stdout instead of a human summary'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and __fish_seen_subcommand_from man" -s q -l quiet -d 'Print nothing on stderr but errors; `exec` prints no summary on stdout either (unless --json): the exit code, --audit-log and metrics carry the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and __fish_seen_subcommand_from man" -s h -l help -d 'Print help'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "completions" -d 'Shell completions on stdout'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "man" -d 'The man page (roff) on stdout'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and not __fish_seen_subcommand_from exec batch validate cleanup doctor data image config k8s seccomp generate help" -f -a "exec" -d 'Run one strategy in the sandbox and report the result'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and not __fish_seen_subcommand_from exec batch validate cleanup doctor data image config k8s seccomp generate help" -f -a "batch" -d 'Run many strategies: screened first, then `--jobs` containers at a time, one JSON line each. `batch submit|status|collect|cancel` hand the batch to Slurm'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and not __fish_seen_subcommand_from exec batch validate cleanup doctor data image config k8s seccomp generate help" -f -a "validate" -d 'Screen strategy sources (tree-sitter, allow-list) without running them'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and not __fish_seen_subcommand_from exec batch validate cleanup doctor data image config k8s seccomp generate help" -f -a "cleanup" -d 'Remove containers left behind by runs that died (only ours, by label)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and not __fish_seen_subcommand_from exec batch validate cleanup doctor data image config k8s seccomp generate help" -f -a "doctor" -d 'Check the engine, image and profile, and run the escape self-test on each runtime'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and not __fish_seen_subcommand_from exec batch validate cleanup doctor data image config k8s seccomp generate help" -f -a "data" -d 'Market data: write the synthetic sample, or import a CSV'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and not __fish_seen_subcommand_from exec batch validate cleanup doctor data image config k8s seccomp generate help" -f -a "image" -d 'Build or inspect the sandbox image'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and not __fish_seen_subcommand_from exec batch validate cleanup doctor data image config k8s seccomp generate help" -f -a "config" -d 'Show the effective configuration, or write a commented config file'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and not __fish_seen_subcommand_from exec batch validate cleanup doctor data image config k8s seccomp generate help" -f -a "k8s" -d 'Render Kubernetes objects for a strategy (a Pod) or a batch (an Indexed Job)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and not __fish_seen_subcommand_from exec batch validate cleanup doctor data image config k8s seccomp generate help" -f -a "seccomp" -d 'Show the embedded seccomp profile (for auditors)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and not __fish_seen_subcommand_from exec batch validate cleanup doctor data image config k8s seccomp generate help" -f -a "generate" -d 'Generate shell completions or the man page (used by packaging)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and not __fish_seen_subcommand_from exec batch validate cleanup doctor data image config k8s seccomp generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and __fish_seen_subcommand_from batch" -f -a "submit" -d 'Shard the strategies and submit them as a Slurm job array (or resubmit what has no result)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and __fish_seen_subcommand_from batch" -f -a "status" -d 'Per shard: pending, running, done or failed, and how many strategies are done'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and __fish_seen_subcommand_from batch" -f -a "collect" -d 'Merge the shards\' lines: one per strategy, in input order. Exit 5 when some are missing'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and __fish_seen_subcommand_from batch" -f -a "cancel" -d 'Cancel the run\'s jobs (`scancel`), then remove every container of the run left on this host'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and __fish_seen_subcommand_from batch" -f -a "worker" -d 'One shard on this node\'s engine: what each array task runs'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and __fish_seen_subcommand_from data" -f -a "sample" -d 'Write a deterministic synthetic dataset (a directory: daily prices, monthly revenue, quarterly fundamentals)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and __fish_seen_subcommand_from data" -f -a "import" -d 'Convert a long CSV (date,symbol,fields...) to Parquet'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "build" -d 'Build the sandbox image (skipped when a current one exists, unless --force)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Every effective setting, its value, and where it came from (default, file, variable, flag)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "init" -d 'Write a commented config file restating the defaults'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and __fish_seen_subcommand_from k8s" -f -a "render" -d 'Print the objects that run a strategy or a batch on a cluster (for `kubectl apply`)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and __fish_seen_subcommand_from k8s" -f -a "score" -d 'Score what a rendered Pod\'s strategy container left (the Pod\'s trusted `score` container runs this)'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and __fish_seen_subcommand_from seccomp" -f -a "show" -d 'Print the embedded profile (JSON) on stdout; its sha256 on stderr'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and __fish_seen_subcommand_from generate" -f -a "completions" -d 'Shell completions on stdout'
complete -c finsandbox -n "__fish_finsandbox_using_subcommand help; and __fish_seen_subcommand_from generate" -f -a "man" -d 'The man page (roff) on stdout'
