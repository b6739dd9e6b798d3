#!/usr/bin/env bash
# `make test-slurm`: the fit job end to end through a real (local, single-node) Slurm.
# Submits the array over the bundled subjects with short settings plus the collect job, with
# one subject made to fail on purpose; checks every output and the collected report; then
# clears the failure, submits again with --resubmit failed and checks that only that subject
# ran. Slurm runs with its default dependency behaviour: the collect job (afterany) must run
# after a failed task and after one killed by its time limit. Last, a task requeued twice (a
# preemption, then the time-limit warning) ends with an uninterrupted fit's parameters, and the
# held-out-subject protocol, cross-validated as an array, gives the scores of one process.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(pwd)/${1:-.build/release/wholebrain}
WORK=$(mktemp -d /tmp/wholebrain-slurm-test.XXXXXX)
chmod 755 "$WORK"   # the munge user reaches its socket inside
export WB_SLURM_DIR=$WORK/slurm-daemons
cleanup() { scripts/local-slurm.sh stop || true; rm -rf "$WORK"; }
trap cleanup EXIT
scripts/local-slurm.sh start >/dev/null
export SLURM_CONF=$WB_SLURM_DIR/slurm.conf
fail() { echo "test-slurm: FAILED: $*" >&2; exit 1; }

cat > "$WORK/job.toml" <<TOML
data = "$(pwd)/data/hcp"
subjects = "all"
[fit]
fit = "G"
duration = 7.2
transient = 1
epochs = 1
test_duration = 7.2
[slurm]
time = "00:10:00"
memory = "1G"
TOML
OUT=$WORK/out
mkdir -p "$OUT"
# 102311 fails on purpose: a file stands where its output folder goes.
echo "in the way" > "$OUT/102311"

wait_for() {  # job ids...
    for _ in $(seq 1 600); do
        [ -z "$(squeue -h -j "$(IFS=,; echo "$*")" 2>/dev/null)" ] && return 0
        sleep 0.5
    done
    fail "jobs $* still queued after 300 s"
}

submitted=$("$BIN" slurm submit "$WORK/job.toml" --out "$OUT")
echo "$submitted"
ids=$(echo "$submitted" | sed -n 's/submitted array job \([0-9]*\) .* collect job \([0-9]*\)/\1 \2/p')
[ -n "$ids" ] || fail "no job ids in: $submitted"
wait_for $ids
subjects=$(ls data/hcp/subjects)
for s in $subjects; do
    if [ "$s" = 102311 ]; then
        [ -f "$OUT/102311.failed" ] || fail "the failing task left no record"
        grep -q "exited with" "$OUT/102311.failed" || fail "the failure record does not say why"
    else
        [ -f "$OUT/$s/summary.json" ] || fail "subject $s has no summary.json"
    fi
done
grep -q "^102311,failed" "$OUT/fits.csv" || fail "collect did not report the failed subject"
[ "$(grep -c ',done,' "$OUT/fits.csv")" -eq 6 ] || fail "collect does not list six fitted subjects"
grep -q "failed: 102311" "$OUT/report.html" || fail "the report does not name the failure"
grep -q "failed: 102311" "$OUT"/slurm/collect-*.log || fail "the collect job's log does not name the failure"

# A failed subject is not queued again unless asked; after clearing the cause, only 102311 runs.
again=$("$BIN" slurm submit "$WORK/job.toml" --out "$OUT")
echo "$again" | grep -q "no subject to submit" || fail "a failed subject was queued again without --resubmit failed: $again"
rm "$OUT/102311"
others=$(ls "$OUT"/*/summary.json | grep -v /102311/)
before=$(stat -c %Y $others | md5sum)
submitted=$("$BIN" slurm submit "$WORK/job.toml" --out "$OUT" --resubmit failed)
echo "$submitted"
echo "$submitted" | grep -q "(1 subjects)" || fail "resubmission should run one subject: $submitted"
ids=$(echo "$submitted" | sed -n 's/submitted array job \([0-9]*\) .* collect job \([0-9]*\)/\1 \2/p')
wait_for $ids
[ -f "$OUT/102311/summary.json" ] || fail "the resubmitted subject did not finish"
[ "$(stat -c %Y $others | md5sum)" = "$before" ] || fail "subjects already done ran again"
[ "$(grep -c ',done,' "$OUT/fits.csv")" -eq 7 ] || fail "collect does not list all seven subjects after the resubmission"
"$BIN" slurm status "$OUT" | tail -1

# The MPI sweep template on two ranks (srun --mpi=pmix inside the batch script).
cat > "$WORK/sweep.toml" <<TOML
data = "$(pwd)/data/hcp"
subject = "101309"
duration = 7.2
transient = 1
metrics = ["fc_r", "rate_E"]
[[axes]]
parameter = "G"
values = [0.5, 1.0, 1.5]
TOML
sbatch --wait --ntasks=2 --time=00:10:00 -o "$WORK/sweep.log" slurm/sweep-mpi.sbatch "$WORK/sweep.toml" "$WORK/sweep" >/dev/null \
    || { cat "$WORK/sweep.log" >&2; fail "the MPI sweep job failed"; }
[ "$(wc -l < "$WORK/sweep/results.jsonl")" -eq 3 ] || fail "the MPI sweep did not write three runs"
# A task killed by the time limit (1 minute) continues from its checkpoint when submitted again.
cat > "$WORK/long.toml" <<TOML
data = "$(pwd)/data/hcp"
subjects = ["101309"]
[fit]
fit = "G"
duration = 14.4
transient = 1
epochs = 400
test_duration = 7.2
identifiability_seeds = 0   # its fresh scans (3 x 864 s) would not fit in the minute after resuming
[slurm]
time = "00:01:00"
memory = "1G"
TOML
LONG=$WORK/long
submitted=$("$BIN" slurm submit "$WORK/long.toml" --out "$LONG")
ids=$(echo "$submitted" | sed -n 's/submitted array job \([0-9]*\) .* collect job \([0-9]*\)/\1 \2/p')
seen_running=no
for _ in $(seq 1 40); do
    if "$BIN" slurm status "$LONG" | grep -q "101309  running"; then seen_running=yes; break; fi
    sleep 0.5
done
[ $seen_running = yes ] || fail "slurm status never showed the task running"
wait_for $ids
[ ! -f "$LONG/101309/summary.json" ] || fail "the 400-epoch fit should not finish within a minute"
[ -f "$LONG/.101309.fit-state.json" ] || fail "the time-limited task left no checkpoint"
done_before=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['scores']))" "$LONG/.101309.fit-state.json")
[ "$done_before" -ge 2 ] || fail "the killed task checkpointed only $done_before epochs"
"$BIN" slurm status "$LONG" | grep -q "101309  started" || fail "status should show the interrupted fit as started"
# Resubmit asking for two epochs more than were done: the task resumes and finishes in time.
sed -i "s/^epochs = 400/epochs = $((done_before + 2))/" "$WORK/long.toml"
submitted=$("$BIN" slurm submit "$WORK/long.toml" --out "$LONG")
ids=$(echo "$submitted" | sed -n 's/submitted array job \([0-9]*\) .* collect job \([0-9]*\)/\1 \2/p')
wait_for $ids
[ -f "$LONG/101309/summary.json" ] || fail "the resumed fit did not finish"
[ "$(($(wc -l < "$LONG/101309/history.csv") - 1))" -eq $((done_before + 2)) ] || fail "the resumed fit did not continue the history"
# The collect job of the timed-out array ran anyway (afterany) and reported the unfinished subject.
grep -q "not finished: 101309 (started)" "$LONG"/slurm/collect-*.log || fail "collect did not run after the time limit, or did not report it"

# Preemption and the time-limit warning with requeue = true. `scontrol requeue` stops the running
# task as a preemption does (SIGTERM) and queues it again; later USR1 to the batch shell, which
# `--signal=B:USR1@N` sends N seconds before the time limit, makes the task stop and requeue
# itself. Each time the fit resumes from its checkpoint, and it ends with the parameters of an
# uninterrupted fit, bit for bit.
cat > "$WORK/requeue.toml" <<TOML
data = "$(pwd)/data/hcp"
subjects = ["101309"]
[fit]
fit = "G"
duration = 7.2
transient = 1
epochs = 14
test_duration = 7.2
[slurm]
time = "00:10:00"
memory = "1G"
requeue = true
TOML
REQ=$WORK/requeue
epochs_done() { python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['scores']))" "$REQ/.101309.fit-state.json" 2>/dev/null || echo 0; }
wait_epochs() {  # n: until the checkpoint holds n epochs
    for _ in $(seq 1 600); do [ "$(epochs_done)" -ge "$1" ] && return 0; sleep 0.2; done
    fail "the requeued fit did not reach epoch $1"
}
submitted=$("$BIN" slurm submit "$WORK/requeue.toml" --out "$REQ")
ids=$(echo "$submitted" | sed -n 's/submitted array job \([0-9]*\) .* collect job \([0-9]*\)/\1 \2/p')
task="${ids%% *}_0"
wait_epochs 2
scontrol requeue "$task"
wait_epochs $(($(epochs_done) + 2))
scancel --batch --signal=USR1 "$task"
wait_for $ids
[ -f "$REQ/101309/summary.json" ] || fail "the requeued fit did not finish"
log=$(cat "$REQ"/slurm/fit-*.log)
echo "$log" | grep -q "stopped by SIGTERM" || fail "the preempted task did not stop on SIGTERM: $log"
echo "$log" | grep -q "stopped by SIGUSR1" || fail "the warned task did not stop on USR1: $log"
[ "$(echo "$log" | grep -c "resumed from its checkpoint")" -eq 2 ] || fail "the task did not resume twice: $log"
"$BIN" fit --data "$(pwd)/data/hcp" --subject 101309 --fit G --duration 7.2 --transient 1 --epochs 14 --test-duration 7.2 \
    --quiet --out "$WORK/uninterrupted" >/dev/null 2>&1
cmp -s "$REQ/101309/params.json" "$WORK/uninterrupted/params.json" || fail "the requeued fit's parameters differ from an uninterrupted fit's"
# The held-out-subject protocol cross-validated over 2 folds as an array (one task per
# candidate and fold) and its test stage (afterok): the same scores, bit for bit, as
# `wholebrain protocol` in one process.
cat > "$WORK/protocol.toml" <<TOML
data = "$(pwd)/data/hcp"
[protocol]
candidates = "G;G,sc-gains"
folds = 2
epochs = 1
duration = 20
seeds = 1
eval_duration = 120
shaping_steps = 20     # what --quick caps the shaping at, for the serial run below
[slurm]
time = "00:10:00"
memory = "2G"
TOML
submitted=$("$BIN" slurm protocol "$WORK/protocol.toml" --out "$WORK/protocol")
ids=$(echo "$submitted" | sed -n 's/submitted array job \([0-9]*\) .* test job \([0-9]*\);.*/\1 \2/p')
[ -n "$ids" ] || fail "slurm protocol did not submit: $submitted"
wait_for $ids
[ -f "$WORK/protocol/result/protocol.json" ] || fail "the protocol's test stage wrote no result: $(cat "$WORK"/protocol/slurm/*.log)"
"$BIN" protocol --quick --candidates "G;G,sc-gains" --folds 2 --quiet --out "$WORK/protocol-serial" >/dev/null 2>&1
cmp -s "$WORK/protocol/result/scores.csv" "$WORK/protocol-serial/scores.csv" || fail "the protocol's scores under Slurm differ from one process's"
echo "test-slurm: passed"
