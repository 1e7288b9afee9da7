#!/usr/bin/env bash
# make test-slurm: lens study / sweep --slurm against a real Slurm (Debian slurm-wlm + munge) started on
# this machine (scripts/slurm-local.sh: munged, slurmctld and slurmd as root, files in a temporary
# directory, no systemd). Three checks, each against a local run of the same study in the same directory
# (so that paths inside the results are the same):
#   1. lens sweep --slurm of a two-run study: every file of the runs is the same bytes as a local lens sweep.
#   2. the same with one array task requeued (scontrol requeue) and another cancelled (scancel) mid-run:
#      the requeued one resumes from its last checkpoint; the cancelled run is left incomplete and --status
#      says failed; submitting again submits only that run (--array=1), which resumes from its last
#      checkpoint; then every file is the same bytes as a local lens sweep.
#   3. lens study --slurm: the training array, the dump array and the probes, patching, circuits and report
#      jobs, each afterok on the one before: every file the same bytes as a local lens study --jobs 1
#      --threads 1, but for the report's provenance lines (command, machine).
# Not root, or the daemons not installed: a clear message and exit 77 (skipped; make reports a failure,
# never a pass).
set -euo pipefail
cd "$(dirname "$0")/.."
LENS=$PWD/.build/release/lens
[ -x "$LENS" ] || { echo "slurm-test: $LENS missing; make build first" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
  echo "slurm-test: SKIPPED: starting munged, slurmctld and slurmd needs root (this is $(id -un)); nothing was tested" >&2
  exit 77
fi
for c in munged slurmctld slurmd sbatch squeue scontrol scancel sinfo; do
  command -v "$c" >/dev/null || { echo "slurm-test: $c missing; make slurm-deps (apt-get install slurm-wlm munge)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/lens-slurm-test.XXXXXX)
chmod 711 "$work"
ok=0
# shellcheck source=scripts/slurm-local.sh
. scripts/slurm-local.sh
finish() {
  slurm_stop
  if [ "$ok" = 1 ]; then rm -rf "$work"; else
    echo "slurm-test: FAILED; files kept in $work (daemon logs in $work/slurm/log)" >&2
  fi
}
trap finish EXIT
fail() { echo "slurm-test: FAILED: $*" >&2; exit 1; }
started=$(date +%s)
slurm_start "$work/slurm"
echo "slurm-test: single-node Slurm up in $(( $(date +%s) - started )) s ($(sinfo -h -o '%N %c CPUs %T'))"

study=$work/study          # every submission and its local twin use this same path
study_yaml() {             # NAME STEPS EVERY D_MODEL: two runs (seeds 1, 2) of one small model
  cat > "$work/$1.yaml" <<EOF
name: $1
tasks: {add: 1, sub: 1}
eval_tasks: [add, sub]
problem: {max_operand: 9, max_step: 5}
models:
  - {name: m, n_layers: 1, d_model: $4, n_heads: 2, d_mlp: $(( $4 * 2 ))}
seeds: [1, 2]
steps: $2
batch: 16
warmup: 5
checkpoints: {dense_until: 100, dense_count: 3, every: $3}
eval: {n: 30}
EOF
}
jobs_of() { /usr/bin/python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["jobs"].values()))' "$study/slurm/jobs.json"; }
# Every recorded job (every array task) ended COMPLETED.
all_completed() {
  local id bad
  for id in $(jobs_of); do
    bad=$(scontrol show job -o "$id" | grep -o 'JobState=[A-Z_]*' | grep -v 'JobState=COMPLETED' || true)
    [ -z "$bad" ] || fail "job $id: $bad (logs: $study/slurm/logs)"
  done
}
# Same files, same bytes (the Slurm side's slurm/ directory of scripts, logs and job ids aside).
same_files() {   # SLURM_DIR LOCAL_DIR [diff -x patterns...]
  local a=$1 b=$2; shift 2
  local n
  n=$(cd "$b" && find . -type f ! -path './slurm/*' ! -name .lens-train.lock | wc -l)
  [ "$n" -gt 10 ] || fail "$b holds only $n files"
  diff -r -x slurm -x .lens-train.lock "$@" "$a" "$b" >&2 || fail "$a and $b differ (above)"
  echo "$n"
}

# 1. lens sweep --slurm, two runs.
study_yaml tiny 300 100 16
t0=$(date +%s)
"$LENS" sweep --study "$work/tiny.yaml" --out "$study" --slurm --cpus-per-task 1
slurm_wait $(jobs_of)
all_completed
t1=$(date +%s)
mv "$study" "$work/sweep-slurm"
"$LENS" sweep --study "$work/tiny.yaml" --out "$study" --jobs 2 --threads 2 >/dev/null 2>&1
n=$(same_files "$work/sweep-slurm" "$study")
echo "slurm-test: 1. lens sweep --slurm (2 runs, $(( t1 - t0 )) s through Slurm): $n files, the same bytes as lens sweep --jobs 2 --threads 2 (1 thread per run)"
rm -rf "$study" "$work/sweep-slurm"

# 2. One array task cancelled mid-run, then the study submitted again.
study_yaml slow 20000 1000 32
t0=$(date +%s)
"$LENS" sweep --study "$work/slow.yaml" --out "$study" --slurm --cpus-per-task 1 > "$work/submit1.txt"
train=$(jobs_of)
last_step() { ls "$study/$1/checkpoints" 2>/dev/null | grep -E '^step_[0-9]+\.safetensors$' | grep -o '[0-9]*' | sort -n | tail -1; }
cancelled_at=""
for _ in $(seq 1 600); do
  s=$(last_step m-s2 || true)
  if [ -n "$s" ] && [ "$((10#$s))" -ge 2000 ]; then
    [ "$((10#$s))" -lt 20000 ] || fail "run m-s2 finished before it could be cancelled"
    scancel "${train}_1"; cancelled_at=$((10#$s)); break
  fi
  sleep 0.2
done
[ -n "$cancelled_at" ] || fail "run m-s2 never reached step 2000"
# Meanwhile m-s1 is requeued by Slurm (as after a node failure or preemption): killed, queued again (its
# begin time, which a requeue puts 2 minutes ahead, brought back to now), and resumed by the same task.
requeued_at=$(last_step m-s1)
[ "$((10#$requeued_at))" -lt 20000 ] || fail "run m-s1 finished before it could be requeued"
scontrol requeue "${train}_0"
for _ in $(seq 1 100); do
  scontrol show job -o "${train}_0" | grep -q 'JobState=PENDING' && break
  sleep 0.1
done
scontrol update JobId="${train}_0" StartTime=now
slurm_wait "$train"
scontrol show job -o "${train}_0" | grep -q 'Restarts=1 ' || fail "array task ${train}_0 was not requeued once"
# The first progress line after a checkpoint (every 1000 steps): a restart there; a fresh start would print 1/20000 again.
first=$(grep -o ' [0-9]*/20000 ' "$study/slurm/logs/train-0.err" | tr -d ' ' | cut -d/ -f1 | awk '$1 > 1 && $1 % 1000 == 1' | head -1)
[ "$(grep -c ' 1/20000 ' "$study/slurm/logs/train-0.err")" = 1 ] || fail "the requeued m-s1 started again from step 1"
[ -n "$first" ] && [ "$first" -gt 1 ] || fail "the requeued m-s1 started again from step 1: $(head -c 400 "$study/slurm/logs/train-0.err")"
scontrol show job -o "$train" | grep -q 'ArrayTaskId=1 .*JobState=CANCELLED' || fail "array task ${train}_1 is not CANCELLED"
status=$("$LENS" sweep --study "$work/slow.yaml" --out "$study" --slurm --status)
echo "slurm-test: lens sweep --slurm --status after the cancel:"; echo "$status" | sed 's/^/    /'
echo "$status" | grep -q '^m-s1  done' || fail "status after the cancel: $status"
echo "$status" | grep -q '^m-s2  failed' || fail "status after the cancel: $status"
left=$(last_step m-s2)
[ "$((10#$left))" -lt 20000 ] || fail "the cancelled run m-s2 completed"
"$LENS" sweep --study "$work/slow.yaml" --out "$study" --slurm --cpus-per-task 1 > "$work/submit2.txt"
grep -q -- '--array=1 ' "$work/submit2.txt" || fail "the second submission is not the cancelled run alone: $(cat "$work/submit2.txt")"
slurm_wait $(jobs_of)
all_completed
# The resubmitted task resumed: its progress (appended to the first attempt's) starts after the checkpoint.
grep -q " $(( 10#$left + 1 ))/20000 " "$study/slurm/logs/train-1.err" || fail "the resubmitted m-s2 did not resume from step $((10#$left)): $(tail -3 "$study/slurm/logs/train-1.err")"
[ "$(grep -c ' 1/20000 ' "$study/slurm/logs/train-1.err")" = 1 ] || fail "the resubmitted m-s2 started again from step 1"
t1=$(date +%s)
"$LENS" sweep --study "$work/slow.yaml" --out "$study" --slurm --status | grep -q '^m-s2  done' || fail "m-s2 not done after the resubmission"
mv "$study" "$work/cancel-slurm"
"$LENS" sweep --study "$work/slow.yaml" --out "$study" --jobs 2 --threads 2 >/dev/null 2>&1
n=$(same_files "$work/cancel-slurm" "$study")
echo "slurm-test: 2. m-s1 requeued by scontrol (its last checkpoint then: step $((10#$requeued_at))), resumed from its checkpoint at step $(( first - 1 )); m-s2 cancelled at step $cancelled_at (last checkpoint $((10#$left))), resubmitted as --array=1, resumed ($(( t1 - t0 )) s through Slurm): $n files, the same bytes as an uninterrupted local lens sweep"
rm -rf "$study" "$work/cancel-slurm"

# 3. lens study --slurm: the whole dependent chain, with a small probe and patching spec.
mkdir -p "$work/specs/probes" "$work/specs/patching"
cat > "$work/specs/probes/tens.yaml" <<'EOF'
name: tens
question: Is the answer's tens digit linearly present?
target: answer_tens
kind: multiclass
hooks: [blocks.0.hook_resid_post]
positions: [equals]
tasks: [add, sub]
l2: 0.01
control: false
EOF
cat > "$work/specs/patching/sub-small.yaml" <<'EOF'
name: sub-small
question: Which components carry a subtraction's operands?
task: sub
corruption: operand
pairs: 12
min_pairs: 2
kinds: [resid_pre, head_out_all_pos]
directions: [denoising]
EOF
t0=$(date +%s)
"$LENS" study --study "$work/tiny.yaml" --specs "$work/specs" --out "$study" --slurm --cpus-per-task 1 > "$work/submit3.txt"
[ "$(grep -c 'afterok' "$work/submit3.txt")" = 5 ] || fail "expected 5 dependent jobs: $(cat "$work/submit3.txt")"
slurm_wait $(jobs_of)
all_completed
t1=$(date +%s)
mv "$study" "$work/study-slurm"
"$LENS" study --study "$work/tiny.yaml" --specs "$work/specs" --out "$study" --jobs 1 --threads 1 >/dev/null 2>&1
for f in REPORT.md REPORT.json; do
  for d in "$work/study-slurm" "$study"; do grep -v -e '^- command: ' -e '^- machine: ' -e '^    "command" : ' -e '^    "machine" : ' "$d/$f" > "$d/$f.kept"; done
done
n=$(same_files "$work/study-slurm" "$study" -x REPORT.md -x REPORT.json)
for f in circuits/circuits.json patching/sub-small/sub-small.json probes/tens.json REPORT.md; do
  [ -s "$study/$f" ] || fail "$f missing"
done
echo "slurm-test: 3. lens study --slurm (6 jobs: train and dump arrays, probes, patching, circuits, report; $(( t1 - t0 )) s through Slurm): $n files, the same bytes as lens study --jobs 1 --threads 1 (REPORT.md and REPORT.json but for their command and machine lines)"
ok=1
echo "slurm-test: passed in $(( $(date +%s) - started )) s"
