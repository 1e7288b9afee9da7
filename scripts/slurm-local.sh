# A single-node Slurm on this machine, for scripts/slurm-test.sh (sourced, not run): munged with its own
# key and socket, slurmctld and slurmd as root daemons with a minimal slurm.conf, everything (state,
# spool, logs, pid files) in one temporary directory; no systemd. Debian's slurm-wlm and munge.
#   slurm_start DIR    start the three daemons with their files under DIR; exports SLURM_CONF
#   slurm_stop         stop the daemons this shell started (by their pid files) and wait for them
#   slurm_wait IDS...  wait until none of the jobs IDS is queued or running

slurm_start() {
  SLURM_DIR=$1
  mkdir -p "$SLURM_DIR"/{munge,state,spool,log}
  chmod 711 "$SLURM_DIR"; chmod 700 "$SLURM_DIR/munge"
  dd if=/dev/urandom of="$SLURM_DIR/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$SLURM_DIR/munge/munge.key"
  munged --key-file="$SLURM_DIR/munge/munge.key" --socket="$SLURM_DIR/munge/munge.sock" \
    --pid-file="$SLURM_DIR/munge/munged.pid" --log-file="$SLURM_DIR/munge/munged.log" \
    --seed-file="$SLURM_DIR/munge/munged.seed" --force
  local host port
  host=$(hostname -s)
  # Ports away from the defaults (6817/6818), different per run, so a leftover daemon cannot answer.
  port=$(( 20000 + ($$ % 20000) * 2 ))
  # The scheduler runs on every submission and completion, and its main loop every 2 s (sched/builtin's
  # default is 60 s); a job whose dependency can no longer be met is cancelled (kill_invalid_depend),
  # as on most clusters, so a cancelled array task does not leave its dependent jobs pending forever.
  cat > "$SLURM_DIR/slurm.conf" <<EOF
ClusterName=lenstest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SLURM_DIR/munge/munge.sock
SlurmctldPort=$port
SlurmdPort=$(( port + 1 ))
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/builtin
SchedulerParameters=kill_invalid_depend,sched_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=600
KillWait=2
InactiveLimit=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$SLURM_DIR/slurm.conf
  slurmctld -f "$SLURM_CONF"
  slurmd -f "$SLURM_CONF"
  local i
  for i in $(seq 1 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then return 0; fi
    sleep 0.5
  done
  echo "slurm-local: the node did not become idle in 30 s; logs:" >&2
  tail -n 20 "$SLURM_DIR"/log/*.log "$SLURM_DIR"/munge/munged.log >&2
  return 1
}

slurm_stop() {
  [ -n "${SLURM_DIR:-}" ] || return 0
  local f pid
  # every job first: a job's steps outlive slurmd, and a failed test must not leave trainings running
  if [ -f "$SLURM_DIR/slurmctld.pid" ] && kill -0 "$(cat "$SLURM_DIR/slurmctld.pid")" 2>/dev/null; then
    scancel --full --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 1 50); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.2; done
  fi
  for f in "$SLURM_DIR/slurmd.pid" "$SLURM_DIR/slurmctld.pid" "$SLURM_DIR/munge/munged.pid"; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
}

slurm_wait() {
  local ids
  ids=$(IFS=,; echo "$*")
  for _ in $(seq 1 1200); do
    if [ -z "$(squeue -h -j "$ids" 2>/dev/null)" ]; then return 0; fi
    sleep 0.5
  done
  echo "slurm-local: jobs $ids still queued after 10 minutes" >&2
  squeue -j "$ids" >&2
  return 1
}
