import Foundation

/// Batch scripts for a fit job: an array job (task i fits subject i of the job's list) and
/// a collect job. A task that fails leaves `OUT/SUBJECT.failed` (the error's last lines) and
/// exits with the fit's status, so Slurm's accounting shows the failure; the collect job
/// waits with `--dependency=afterany`, so it runs whatever the tasks ended as (failed, timed
/// out, out of memory) and reports them. A task whose fit checkpoint exists (killed by the
/// time limit) continues it with --resume.
///
/// Time limits and preemption: the array asks Slurm for USR1 on the batch shell
/// `stopBeforeLimit` seconds before the time limit (`--signal=B:USR1@N`); the shell passes it,
/// and a preemption's TERM, to the fit as SIGTERM, which stops at once keeping its last epoch's
/// checkpoint (at most one epoch lost). With `requeue`, a task stopped by the warning requeues
/// itself (`scontrol requeue`) when its checkpoint moved on since it started, and a preempted
/// task is requeued by Slurm; either way the task starts again with --resume.
public enum SlurmScripts {
    /// Shell quoting for one word.
    static func quote(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,".contains($0) } ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The #SBATCH lines every script shares: partition and account when given, time, memory, tasks.
    static func resources(_ r: SlurmResources, time: String? = nil, memory: String? = nil, ntasks: Int = 1) -> String {
        var s = ""
        if let p = r.partition { s += "#SBATCH --partition=\(p)\n" }
        if let a = r.account { s += "#SBATCH --account=\(a)\n" }
        return s + "#SBATCH --time=\(time ?? r.time)\n#SBATCH --mem=\(memory ?? r.memory)\n#SBATCH --ntasks=\(ntasks)\n"
    }

    public static func fitArray(job: FitJobSpec, out: String, binary: String, indices: [Int]) -> String {
        let r = job.slurm
        var s = "#!/bin/bash\n# WholeBrain: fit each subject of the job as one task of this array (rendered by wholebrain slurm submit).\n"
        s += "#SBATCH --job-name=wholebrain-fit\n#SBATCH --array=\(indices.map(String.init).joined(separator: ","))\(r.maxRunning.map { "%\($0)" } ?? "")\n"
        if r.requeue { s += "#SBATCH --requeue\n" }
        s += resources(r, ntasks: r.ranksPerTask) + "#SBATCH --cpus-per-task=\(r.cpusPerTask)\n"
        if r.stopBeforeLimit > 0 { s += "#SBATCH --signal=B:USR1@\(r.stopBeforeLimit)\n" }
        s += "#SBATCH --output=\(out)/slurm/fit-%A_%a.log\n#SBATCH --open-mode=append\n"   // a requeued task adds to its log
        s += "#SBATCH --comment=wholebrain:\(out)\n"   // lets `wholebrain slurm status` find running tasks
        s += "set -u\n"
        for m in r.modules { s += "module load \(quote(m))\n" }
        s += "SUBJECTS=(\(job.subjects.map(quote).joined(separator: " ")))\n"
        s += "S=${SUBJECTS[$SLURM_ARRAY_TASK_ID]}\nOUT=\(quote(out))\n"
        s += "rm -f \"$OUT/$S.failed\"\n"
        s += "STATE=\"$OUT/.$S.fit-state.json\"\n"
        s += "RESUME=\"\"\n[ -f \"$STATE\" ] && RESUME=--resume   # continue a task stopped by the time limit or preemption\n"
        s += "checkpoint() { { cksum < \"$STATE\"; } 2>/dev/null || echo none; }\n"
        s += "STARTED_FROM=$(checkpoint)\n"
        s += "echo \"subject $S: fit ${RESUME:+resumed from its checkpoint }on $(hostname) at $(date '+%F %T')\"\n"
        s += "# Slurm's warning before the time limit (USR1) and a preemption (TERM) reach the fit as SIGTERM:\n"
        s += "# it keeps its last epoch's checkpoint and exits 143.\n"
        s += "STOPPED=\"\"\nFIT=\"\"\n"
        s += "stop() { STOPPED=$1; [ -n \"$FIT\" ] && kill -TERM \"$FIT\" 2>/dev/null; }\n"
        s += "trap 'stop USR1' USR1\ntrap 'stop TERM' TERM\n"
        let launch = r.ranksPerTask > 1 ? "srun --mpi=pmix -n \(r.ranksPerTask) " : ""
        s += "\(launch)\(quote(binary)) fit --data \(quote(job.data)) --subject \"$S\" \(job.fitArguments.map(quote).joined(separator: " ")) --quiet $RESUME --out \"$OUT/$S\" 2>> \"$OUT/slurm/$S.err\" &\n"
        s += "FIT=$!\n"
        s += "while :; do wait \"$FIT\"; code=$?; kill -0 \"$FIT\" 2>/dev/null || break; done   # a trapped signal interrupts wait\n"
        s += "if [ $code -ne 0 ] && [ -n \"$STOPPED\" ]; then\n"
        s += "  echo \"subject $S: stopped by SIG$STOPPED; its checkpoint is kept and a new run resumes it\"\n"
        if r.requeue {
            s += "  if [ \"$STOPPED\" = USR1 ] && [ \"$(checkpoint)\" != \"$STARTED_FROM\" ]; then\n"
            s += "    scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\" && exit 0\n"
            s += "  fi\n"
        }
        s += "  exit $code\n"
        s += "fi\n"
        s += "if [ $code -ne 0 ]; then\n"
        s += "  { echo \"subject $S: wholebrain fit exited with $code\"; tail -n 5 \"$OUT/slurm/$S.err\"; } > \"$OUT/$S.failed.tmp\" && mv \"$OUT/$S.failed.tmp\" \"$OUT/$S.failed\"\n"
        s += "fi\nexit $code\n"
        return s
    }

    /// The dependency the collect job is submitted with: after every task, however it ended.
    public static let collectDependency = "afterany"

    public static func collect(out: String, binary: String, job: FitJobSpec) -> String {
        var s = "#!/bin/bash\n# WholeBrain: gather every subject's fit into one table and report (after the array job).\n"
        s += "#SBATCH --job-name=wholebrain-collect\n" + resources(job.slurm, time: "00:10:00", memory: "1G")
        s += "#SBATCH --output=\(out)/slurm/collect-%j.log\n"
        s += "\(quote(binary)) collect \(quote(out)) --job \(quote(out))/job.toml\n"
        return s
    }

    /// The protocol's array (task i fits and validates candidate i with `protocol --fit-only`
    /// into OUT/candidates/i; with folds, task i is candidate i mod C of fold i / C + 1, into
    /// OUT/candidates/fold-k/c) and its last stage (`protocol --from OUT/candidates` into
    /// OUT/result), submitted with `protocolDependency` on the array.
    public static func protocolArray(job: ProtocolJobSpec, out: String, binary: String) -> String {
        let r = job.slurm
        var s = "#!/bin/bash\n# WholeBrain: fit and validate each candidate of the protocol as one task of this array (rendered by wholebrain slurm protocol).\n"
        s += "#SBATCH --job-name=wholebrain-protocol\n#SBATCH --array=0-\(job.candidates.count * job.folds - 1)\(r.maxRunning.map { "%\($0)" } ?? "")\n"
        s += resources(r) + "#SBATCH --cpus-per-task=\(r.cpusPerTask)\n"
        s += "#SBATCH --output=\(out)/slurm/protocol-%A_%a.log\n"
        s += "set -eu\n"
        for m in r.modules { s += "module load \(quote(m))\n" }
        s += "CANDIDATES=(\(job.candidates.map(quote).joined(separator: " ")))\n"
        s += "OUT=\(quote(out))\n"
        // With folds, the task id picks a candidate and a fold; the rest of the task is the same.
        let folded = job.folds > 1
        s += folded ? "I=$((SLURM_ARRAY_TASK_ID % ${#CANDIDATES[@]}))\nFOLD=$((SLURM_ARRAY_TASK_ID / ${#CANDIDATES[@]} + 1))\nC=${CANDIDATES[$I]}\n"
            : "C=${CANDIDATES[$SLURM_ARRAY_TASK_ID]}\n"
        s += "echo \"\(folded ? "fold $FOLD, " : "")candidate $C: fit and validation on $(hostname) at $(date '+%F %T')\"\n"
        s += "\(quote(binary)) protocol --data \(quote(job.data)) \(job.protocolArguments.map(quote).joined(separator: " ")) --fit-only \"$C\" "
        s += (folded ? "--fold \"$FOLD\" " : "") + "--force --out \"$OUT/candidates/\(folded ? "fold-$FOLD/$I" : "$SLURM_ARRAY_TASK_ID")\"\n"
        return s
    }

    /// The protocol's last stage runs only when every candidate was fitted.
    public static let protocolDependency = "afterok"

    public static func protocolConclusion(job: ProtocolJobSpec, out: String, binary: String) -> String {
        let r = job.slurm
        var s = "#!/bin/bash\n# WholeBrain: choose among the fitted candidates on validation, score on the test subjects, report (after the array job).\n"
        s += "#SBATCH --job-name=wholebrain-protocol-test\n" + resources(r) + "#SBATCH --output=\(out)/slurm/protocol-test-%j.log\n"
        s += "set -eu\n"
        for m in r.modules { s += "module load \(quote(m))\n" }
        s += "\(quote(binary)) protocol --data \(quote(job.data)) \(job.protocolArguments.map(quote).joined(separator: " ")) --from \(quote(out))/candidates --force --out \(quote(out))/result\n"
        return s
    }
}
