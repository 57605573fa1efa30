using System.Text.RegularExpressions;
using Foresight.Experiments;
using Foresight.Runs;
using Spectre.Console;

namespace Foresight.Cli;

/// <summary>
/// run --status: each cell of a plan as finished, running, pending, failed, interrupted or not started, read from its
/// run directory and, for a plan submitted to Slurm, from squeue (and sacct where the cluster keeps accounting).
/// </summary>
internal static partial class PlanStatus
{
    public enum State { Finished, Running, Pending, Failed, Interrupted, NotStarted }

    /// <summary>What the queue or accounting says of one array task: its state and, for a pending one, why.</summary>
    public sealed record TaskState(string State, string? Reason = null);

    private static readonly string[] RunningStates = ["RUNNING", "COMPLETING", "CONFIGURING", "SIGNALING", "STAGE_OUT", "RESIZING"];

    /// <summary>
    /// One cell's state, first match wins: a summary means finished; a live process of this machine training it (its
    /// "running" file names it) or a task in the queue running means running; a queued one is pending; a task
    /// that accounting says ended, or whose log exists, without a summary failed; a checkpoint without a job is an
    /// interrupted local run; anything else has not started.
    /// </summary>
    public static (State State, string? Note) Classify(bool finished, bool checkpoint, TaskState? queued, TaskState? accounted, bool logExists, string? trainingHere = null)
    {
        if (finished) return (State.Finished, null);
        if (trainingHere is not null) return (State.Running, trainingHere);
        if (queued is { } q)
            return RunningStates.Contains(q.State) ? (State.Running, null)
                : (State.Pending, q.State == "PENDING" ? q.Reason is { Length: > 0 } r && r != "None" ? r : null : q.State);
        if (accounted is { } a) return (State.Failed, a.State);
        if (logExists) return (State.Failed, "its task ended without finishing");
        return checkpoint ? (State.Interrupted, "resumes from its checkpoint when run again") : (State.NotStarted, null);
    }

    public static int Show(string root, Plan plan)
    {
        if (!Directory.Exists(root)) throw new UserError($"'{root}' does not exist: nothing of this plan has run there");
        var jobs = ReadJobs(root);
        // the whole queue, filtered here: squeue -j fails outright once one of the ids has left the controller's memory
        var queued = jobs.Count == 0 ? [] : Tasks(jobs, SlurmExecutor.Execute("squeue", "-h", "-r", "-u", Environment.UserName, "-o", "%i|%T|%r"));
        var accounted = jobs.Count == 0 ? [] : Tasks(jobs, SlurmExecutor.Execute("sacct", "-n", "-X", "-P", "-j", string.Join(",", jobs), "-o", "JobID,State"));

        var counts = new Dictionary<State, int>();
        for (int i = 0; i < plan.Cells.Count; i++)
        {
            string directory = Path.Combine(root, plan.Cells[i].Id), log = SlurmExecutor.LogOf(root, i);
            var (state, note) = Classify(File.Exists(Path.Combine(directory, RunDirectory.SummaryFileName)),
                File.Exists(Path.Combine(directory, RunDirectory.TrainingCheckpointFileName)), queued.GetValueOrDefault(i), accounted.GetValueOrDefault(i), File.Exists(log),
                TrainingHere(directory));
            counts[state] = counts.GetValueOrDefault(state) + 1;
            string colour = state switch { State.Finished => "green", State.Failed => "red", State.Running => "blue", _ => "default" };
            AnsiConsole.MarkupLine($"{i,4}  [{colour}]{Name(state),-11}[/]  {Markup.Escape(plan.Cells[i].Id)}{(note is null ? "" : $"  [grey]({Markup.Escape(note)})[/]")}");
            if (File.Exists(log) && state != State.Finished) AnsiConsole.MarkupLine($"      log: {Markup.Escape(log)}");
            if (state == State.Failed && File.Exists(log) && LastError(log) is { } error) AnsiConsole.MarkupLine($"      last error: {Markup.Escape(error)}");
        }
        AnsiConsole.MarkupLine($"{plan.Cells.Count} cells: " + string.Join(", ", Enum.GetValues<State>().Where(counts.ContainsKey).Select(s => $"{counts[s]} {Name(s)}")) +
                               (jobs.Count > 0 ? $" (Slurm job {string.Join(", ", jobs)})" : ""));
        return 0;
    }

    /// <summary>"process PID on this machine" when a live process of this machine is training the cell; null otherwise (a stale file of a killed one included).</summary>
    private static string? TrainingHere(string directory)
    {
        string file = Path.Combine(directory, ExperimentExecutor.RunningFile);
        if (!File.Exists(file)) return null;
        var parts = File.ReadAllText(file).Split(' ', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 2 && parts[0] == Environment.MachineName && int.TryParse(parts[1], out int pid) && Directory.Exists($"/proc/{pid}")
            ? $"process {pid} on this machine" : null;
    }

    public static string Name(State state) => state == State.NotStarted ? "not started" : state.ToString().ToLowerInvariant();

    /// <summary>The log's last line that reports an error (ours, a crash's or slurmstepd's), else its last line.</summary>
    public static string? LastError(string log)
    {
        var lines = File.ReadAllLines(log).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        return lines.LastOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)) ?? lines.LastOrDefault();
    }

    private static List<string> ReadJobs(string root)
    {
        string file = Path.Combine(root, SlurmExecutor.Directory, SlurmExecutor.JobsFile);
        return File.Exists(file) ? [.. File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0)] : [];
    }

    /// <summary>"JOB_TASK|STATE|REASON" lines by task (the cell's index); a later job's line wins. A failed query (no sacct accounting) is no lines.</summary>
    private static Dictionary<int, TaskState> Tasks(List<string> jobs, (int Code, string Output, string Error) query)
    {
        var tasks = new Dictionary<int, (int Job, TaskState State)>();
        if (query.Code != 0) return [];
        foreach (string line in query.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split('|');
            if (ArrayTask().Match(fields[0]) is not { Success: true } m) continue; // a still-pending range "12_[3-5]" is listed per task with -r
            int job = jobs.IndexOf(m.Groups[1].Value), task = int.Parse(m.Groups[2].Value);
            var state = new TaskState(fields[1].Split(' ')[0], fields.Length > 2 ? fields[2] : null); // sacct: "CANCELLED by 0"
            if (job >= 0 && (!tasks.TryGetValue(task, out var held) || held.Job <= job)) tasks[task] = (job, state);
        }
        return tasks.ToDictionary(t => t.Key, t => t.Value.State);
    }

    [GeneratedRegex(@"^(\d+)_(\d+)$")]
    private static partial Regex ArrayTask();
}
