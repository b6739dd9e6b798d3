import Foundation

/// Batch scripts for a fit job: an array job (task i fits subject i of the job's list) and
/// a collect job. A task that fails leaves `OUT/SUBJECT.failed` (the error's last lines) and
/// exits with the fit's status, so Slurm's accounting shows the failure; the collect job
/// waits with `--dependency=afterany`, so it runs whatever the tasks ended as (failed, timed
/// out, out of memory) and reports them. A task whose fit checkpoint exists (killed by the
/// time limit) continues it with --resume.
public enum SlurmScripts {
    /// Shell quoting for one word.
    static func quote(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,".contains($0) } ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    public static func fitArray(job: FitJobSpec, out: String, binary: String, indices: [Int]) -> String {
        var s = "#!/bin/bash\n# WholeBrain: fit each subject of the job as one task of this array (rendered by wholebrain slurm submit).\n"
        s += "#SBATCH --job-name=wholebrain-fit\n#SBATCH --array=\(indices.map(String.init).joined(separator: ","))\(job.maxRunning.map { "%\($0)" } ?? "")\n"
        if job.requeue { s += "#SBATCH --requeue\n" }
        if let p = job.partition { s += "#SBATCH --partition=\(p)\n" }
        if let a = job.account { s += "#SBATCH --account=\(a)\n" }
        s += "#SBATCH --time=\(job.time)\n#SBATCH --mem=\(job.memory)\n#SBATCH --ntasks=\(job.ranksPerTask)\n#SBATCH --cpus-per-task=\(job.cpusPerTask)\n"
        s += "#SBATCH --output=\(out)/slurm/fit-%A_%a.log\n"
        s += "#SBATCH --comment=wholebrain:\(out)\n"   // lets `wholebrain slurm status` find running tasks
        s += "set -u\n"
        for m in job.modules { s += "module load \(quote(m))\n" }
        s += "SUBJECTS=(\(job.subjects.map(quote).joined(separator: " ")))\n"
        s += "S=${SUBJECTS[$SLURM_ARRAY_TASK_ID]}\nOUT=\(quote(out))\n"
        s += "rm -f \"$OUT/$S.failed\"\n"
        s += "RESUME=\"\"\n[ -f \"$OUT/.$S.fit-state.json\" ] && RESUME=--resume   # continue a task killed by the time limit\n"
        let launch = job.ranksPerTask > 1 ? "srun --mpi=pmix -n \(job.ranksPerTask) " : ""
        s += "\(launch)\(quote(binary)) fit --data \(quote(job.data)) --subject \"$S\" \(job.fitArguments.map(quote).joined(separator: " ")) --quiet $RESUME --out \"$OUT/$S\" 2> \"$OUT/slurm/$S.err\"\n"
        s += "code=$?\nif [ $code -ne 0 ]; then\n"
        s += "  { echo \"subject $S: wholebrain fit exited with $code\"; tail -n 5 \"$OUT/slurm/$S.err\"; } > \"$OUT/$S.failed.tmp\" && mv \"$OUT/$S.failed.tmp\" \"$OUT/$S.failed\"\n"
        s += "fi\nexit $code\n"
        return s
    }

    /// The dependency the collect job is submitted with: after every task, however it ended.
    public static let collectDependency = "afterany"

    public static func collect(out: String, binary: String, job: FitJobSpec) -> String {
        var s = "#!/bin/bash\n# WholeBrain: gather every subject's fit into one table and report (after the array job).\n"
        s += "#SBATCH --job-name=wholebrain-collect\n"
        if let p = job.partition { s += "#SBATCH --partition=\(p)\n" }
        if let a = job.account { s += "#SBATCH --account=\(a)\n" }
        s += "#SBATCH --time=00:10:00\n#SBATCH --mem=1G\n#SBATCH --ntasks=1\n#SBATCH --output=\(out)/slurm/collect-%j.log\n"
        s += "\(quote(binary)) collect \(quote(out)) --job \(quote(out))/job.toml\n"
        return s
    }
}
