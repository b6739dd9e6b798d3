#!/usr/bin/env bash
# A single-node Slurm on this machine for tests: `scripts/local-slurm.sh start` starts munged,
# slurmctld and slurmd with state under $WB_SLURM_DIR (default /tmp/wholebrain-slurm) and waits
# until the node is idle; `scripts/local-slurm.sh stop` stops only the daemons it started (their
# pid files). Needs the Debian packages slurmctld slurmd slurm-client munge (make deps).
set -euo pipefail
DIR=${WB_SLURM_DIR:-/tmp/wholebrain-slurm}
HOST=$(hostname -s)

stop() {
    for name in slurmd slurmctld munged; do
        if [ -f "$DIR/$name.pid" ]; then
            pid=$(cat "$DIR/$name.pid")
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            rm -f "$DIR/$name.pid"
        fi
    done
}

start() {
    stop
    mkdir -p "$DIR"/{state,spool,log,munge}
    chmod 755 "$DIR"
    # munge: its own key and socket, run as the munge user.
    if [ ! -f "$DIR/munge/munge.key" ]; then
        dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    fi
    chown -R munge:munge "$DIR/munge"
    chmod 0700 "$DIR/munge"; chmod 0400 "$DIR/munge/munge.key"
    sudo_munge() { if [ "$(id -u)" -eq 0 ]; then runuser -u munge -- "$@"; else sudo -u munge "$@"; fi; }
    sudo_munge munged --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
        --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munge.seed" -f
    for _ in $(seq 1 50); do [ -f "$DIR/munge/munged.pid" ] && break; sleep 0.1; done
    cp "$DIR/munge/munged.pid" "$DIR/munged.pid"
    node=$(slurmd -C | head -1 | sed 's/ Boards=[0-9]*//; s/ SocketsPerBoard=[0-9]*//; s/ CoresPerSocket=[0-9]*//; s/ ThreadsPerCore=[0-9]*//')
    cat > "$DIR/slurm.conf" <<CONF
ClusterName=wholebrain-test
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket,cred_expire=5
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
EnforcePartLimits=ALL

MpiDefault=none
ReturnToService=2
$node State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$DIR/slurm.conf"
    slurmctld -f "$DIR/slurm.conf"
    slurmd -f "$DIR/slurm.conf"
    for _ in $(seq 1 100); do
        if sinfo -h -o %t 2>/dev/null | grep -q idle; then echo "local Slurm up: export SLURM_CONF=$DIR/slurm.conf"; return 0; fi
        sleep 0.2
    done
    echo "local Slurm did not come up; logs in $DIR/log" >&2
    return 1
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
