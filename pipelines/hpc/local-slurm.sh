#!/bin/sh
# A one-node Slurm on this machine, for testing the job-array scripts for real: munged,
# slurmctld and slurmd from Debian 12's packages (slurmctld slurmd slurm-client munge),
# run as root with their own key, socket, state and logs in a scratch folder, and no
# accounting. Nothing is installed as a service; stop kills only the daemons it started.
#   local-slurm.sh start DIR     start the cluster; prints the line to export SLURM_CONF
#   local-slurm.sh stop DIR      stop the daemons DIR's pid files name, remove nothing else
set -eu
cmd=${1:?usage: local-slurm.sh start|stop DIR}
dir=${2:?usage: local-slurm.sh start|stop DIR}

stop() {
  # Cancel this cluster's jobs first, so that no task outlives the daemons.
  if [ -f "$dir/slurmctld.pid" ] && [ -f "$dir/slurm.conf" ]; then
    SLURM_CONF="$dir/slurm.conf" scancel --quiet --user="$(id -un)" 2>/dev/null || true
    i=0
    while [ -n "$(SLURM_CONF="$dir/slurm.conf" squeue -h -t running,completing 2>/dev/null)" ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
  fi
  for d in slurmd slurmctld munged; do
    if [ -f "$dir/$d.pid" ]; then
      pid=$(cat "$dir/$d.pid")
      kill "$pid" 2>/dev/null || true
      i=0
      while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$d.pid"
    fi
  done
}

case $cmd in
stop) stop; exit 0 ;;
start) ;;
*) echo "local-slurm.sh: unknown command '$cmd' (start or stop)" >&2; exit 64 ;;
esac

[ "$(id -u)" = 0 ] || { echo "local-slurm.sh: the test cluster runs as root (SlurmUser=root)" >&2; exit 1; }
for t in munged slurmctld slurmd sbatch squeue; do
  command -v $t >/dev/null || { echo "local-slurm.sh: $t is missing (apt-get install slurmctld slurmd slurm-client munge)" >&2; exit 1; }
done
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
dir=$(cd "$dir" && pwd)
chmod 700 "$dir/munge"
dd if=/dev/urandom of="$dir/munge/key" bs=1024 count=1 2>/dev/null
chmod 400 "$dir/munge/key"
cat > "$dir/slurm.conf" <<CONF
ClusterName=dkltest
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SchedulerType=sched/backfill
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pidfile
SlurmdPidFile=$dir/slurmd.pidfile
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MaxArraySize=1001
NodeName=localhost CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
munged -F --force --socket="$dir/munge/socket" --key-file="$dir/munge/key" --pid-file="$dir/munge/pid" \
  --log-file="$dir/munge/log" --seed-file="$dir/munge/seed" > /dev/null 2>&1 &
echo $! > "$dir/munged.pid"
i=0
while [ ! -S "$dir/munge/socket" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$dir/munge/socket" ] || { echo "local-slurm.sh: munged did not start (see $dir/munge/log)" >&2; stop; exit 1; }
slurmctld -D -i -f "$dir/slurm.conf" > "$dir/slurmctld.out" 2>&1 &
echo $! > "$dir/slurmctld.pid"
slurmd -D -N localhost -f "$dir/slurm.conf" > "$dir/slurmd.out" 2>&1 &
echo $! > "$dir/slurmd.pid"
# Ready when the node takes jobs.
i=0
until sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; do
  i=$((i + 1))
  if [ $i -gt 120 ]; then
    echo "local-slurm.sh: the node did not come up in 60 s (logs in $dir)" >&2; stop; exit 1
  fi
  sleep 0.5
done
echo "export SLURM_CONF=$dir/slurm.conf"
