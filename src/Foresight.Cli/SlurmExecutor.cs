using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Foresight.Experiments;
using Foresight.Training;
using Spectre.Console;

namespace Foresight.Cli;

/// <summary>What a cluster asks of a job array, from the flags.</summary>
internal sealed record SlurmRequest(string? Partition, string? Time, int CpusPerTask, string? Memory, int? MaxParallel, string? Account, IReadOnlyList<string> ExtraArguments);

/// <summary>
/// Runs a plan as a Slurm job array, one array task per unfinished cell: each task runs `foresight run OUT/plan.json
/// --cell I` with the program that submitted it, so it goes through the same executor as a local run (compare's probes
/// included). Cells that start from another cell's model (compare's grpo) go in a second array that waits for the
/// first to succeed. The script asks for USR1 two minutes before the time limit and --requeue; the task forwards the
/// signal, training checkpoints at the next step and exits 75, and the script requeues the task, which resumes from
/// that checkpoint. OUT must be on a filesystem every node sees.
/// </summary>
internal static partial class SlurmExecutor
{
    public const string Directory = "slurm";
    public const string ScriptName = "array.sbatch";
    public const string DependentScriptName = "array-after.sbatch";
    /// <summary>The job ids submitted for this root, one per line, oldest first: what --status asks squeue and sacct about.</summary>
    public const string JobsFile = "jobs.txt";

    /// <summary>A cell's log: every attempt of its array task appends to it.</summary>
    public static string LogOf(string root, int cell) => Path.Combine(root, Directory, $"cell-{cell}.log");

    /// <summary>The flags of the Slurm executor, added to a command.</summary>
    public sealed class Flags
    {
        public Option<string> Executor { get; } = new("--executor") { Description = "local (this machine) or slurm (a job array, one task per unfinished cell)", DefaultValueFactory = _ => "local" };
        public Option<string?> Partition { get; } = new("--partition") { Description = "slurm: partition (default: the cluster's)" };
        public Option<string?> Time { get; } = new("--time") { Description = "slurm: time limit per task, as sbatch takes it (MM, HH:MM:SS, D-HH:MM:SS)" };
        public Option<int> CpusPerTask { get; } = new("--cpus-per-task") { Description = "slurm: cores per task, also libtorch's thread count", DefaultValueFactory = _ => 2 };
        public Option<string?> Memory { get; } = new("--mem") { Description = "slurm: memory per task, as sbatch takes it (8G)" };
        public Option<int?> MaxParallel { get; } = new("--max-parallel") { Description = "slurm: at most this many tasks at once (the array's %N throttle)" };
        public Option<string?> Account { get; } = new("--account") { Description = "slurm: account to charge" };
        public Option<string[]> SbatchArguments { get; } = new("--sbatch-arg") { Description = "slurm: one more sbatch argument, passed as it is (repeatable)", AllowMultipleArgumentsPerToken = false };
        public Option<bool> DryRun { get; } = new("--dry-run") { Description = "slurm: write the script, submit nothing" };
        public Option<bool> Wait { get; } = new("--wait") { Description = "slurm: wait for the array to end, then aggregate as a local run would" };

        public Flags(Command command)
        {
            foreach (var option in new Option[] { Executor, Partition, Time, CpusPerTask, Memory, MaxParallel, Account, SbatchArguments, DryRun, Wait }) command.Options.Add(option);
        }

        /// <summary>True for --executor slurm; false for local, where giving a Slurm flag is an error.</summary>
        public bool UseSlurm(ParseResult r)
        {
            string executor = r.GetValue(Executor)!;
            if (executor is not ("local" or "slurm")) throw new UserError($"--executor must be 'local' or 'slurm', got '{executor}'");
            if (executor == "slurm") return true;
            foreach (var option in new Option[] { Partition, Time, Memory, MaxParallel, Account, SbatchArguments, DryRun, Wait })
                if (TrainingOptions.Given(r, option)) throw new UserError($"{option.Name} applies to --executor slurm");
            return false;
        }

        public SlurmRequest Request(ParseResult r)
        {
            string? time = r.GetValue(Time);
            if (time is not null && !TimeFormat().IsMatch(time))
                throw new UserError($"--time must be MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS, got '{time}'");
            int cpus = r.GetValue(CpusPerTask);
            if (cpus < 1) throw new UserError($"--cpus-per-task must be at least 1, got {cpus}");
            if (r.GetValue(MaxParallel) is < 1) throw new UserError($"--max-parallel must be at least 1, got {r.GetValue(MaxParallel)}");
            return new SlurmRequest(r.GetValue(Partition), time, cpus, r.GetValue(Memory), r.GetValue(MaxParallel), r.GetValue(Account), r.GetValue(SbatchArguments) ?? []);
        }
    }

    [GeneratedRegex(@"^(\d+(:\d{1,2}){0,2}|\d+-\d{1,2}(:\d{1,2}){0,2})$")]
    private static partial Regex TimeFormat();

    /// <summary>The command line that runs this very program: the apphost, or dotnet and the assembly.</summary>
    public static string ProgramCommand()
    {
        string process = Environment.ProcessPath!;
        string assembly = typeof(SlurmExecutor).Assembly.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" ? $"{Quote(process)} {Quote(assembly)}" : Quote(process);
    }

    /// <summary>The sbatch script of one array over <paramref name="cells"/>, the indices of cells of the plan in <paramref name="root"/>.</summary>
    public static string Script(string name, string root, IReadOnlyList<int> cells, SlurmRequest request, string? after = null)
    {
        var script = new StringBuilder();
        script.AppendLine("#!/bin/bash");
        script.AppendLine($"# Foresight: cells of {Path.Combine(root, Plan.FileName)}, one array task each; written by foresight --executor slurm.");
        if (after is not null)
            script.AppendLine($"# These cells start from models of cells in {after}: submit with sbatch --dependency=afterok:<that job's id> --kill-on-invalid-dep=yes");
        script.AppendLine($"#SBATCH --job-name=foresight-{name}");
        script.AppendLine($"#SBATCH --array={Ranges(cells)}{(request.MaxParallel is { } n ? $"%{n}" : "")}");
        script.AppendLine($"#SBATCH --output={Path.Combine(root, Directory, "cell-%a.log")}");
        script.AppendLine("#SBATCH --open-mode=append   # a requeued task's log follows its first attempt's");
        script.AppendLine($"#SBATCH --cpus-per-task={request.CpusPerTask}");
        if (request.Partition is { } partition) script.AppendLine($"#SBATCH --partition={partition}");
        if (request.Time is { } time) script.AppendLine($"#SBATCH --time={time}");
        if (request.Memory is { } memory) script.AppendLine($"#SBATCH --mem={memory}");
        if (request.Account is { } account) script.AppendLine($"#SBATCH --account={account}");
        script.AppendLine("#SBATCH --signal=B:USR1@120   # two minutes before the time limit, to this script, which passes it on");
        script.AppendLine("#SBATCH --requeue");
        foreach (string argument in request.ExtraArguments) script.AppendLine($"#SBATCH {argument}");
        script.AppendLine();
        script.AppendLine("export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK");
        script.AppendLine($"{ProgramCommand()} run {Quote(Path.Combine(root, Plan.FileName))} --cell \"$SLURM_ARRAY_TASK_ID\" &");
        script.AppendLine("cell=$!");
        script.AppendLine("# On either signal training writes its checkpoint at the next step and exits 75. Only the time-limit warning");
        script.AppendLine("# requeues the task: TERM is scancel (the user's call) or preemption (which Slurm requeues itself where set up to).");
        script.AppendLine("warned=0");
        script.AppendLine("trap 'warned=1; kill -USR1 $cell' USR1");
        script.AppendLine("trap 'kill -TERM $cell' TERM");
        script.AppendLine("wait $cell; code=$?");
        script.AppendLine("while kill -0 $cell 2>/dev/null; do wait $cell; code=$?; done   # a trapped signal ends the first wait early");
        script.AppendLine("if [ \"$code\" -eq 75 ] && [ \"$warned\" -eq 1 ]; then scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"; fi");
        script.AppendLine("exit $code");
        return script.ToString();
    }

    /// <summary>
    /// Writes the scripts for the plan's unfinished cells and submits them (unless --dry-run); with --wait, aggregates
    /// once every task has ended, as a local run would.
    /// </summary>
    public static int Run(string root, Plan plan, Flags flags, ParseResult result, bool wide)
    {
        var request = flags.Request(result);
        bool dryRun = result.GetValue(flags.DryRun);
        if (!dryRun && !OnPath("sbatch"))
            throw new UserError("--executor slurm needs sbatch on PATH (run it on the cluster's login node); --dry-run writes the script without it");
        root = Path.GetFullPath(root);
        var executor = new ExperimentExecutor(root, _ => throw new InvalidOperationException("the Slurm executor trains nothing itself"));
        var pending = executor.Pending(plan);
        if (pending.Count == 0)
        {
            AnsiConsole.MarkupLine("every cell has finished; nothing to submit");
            Experiment.Finish(root, plan, Experiment.Execute(root, plan), wide);
            return 0;
        }
        foreach (int i in pending.Where(i => plan.Cells[i].CheckBeforeStart)) Trainer.CheckBuilds(plan.Cells[i].Config); // fail here, not in a queue
        var ids = plan.Cells.Select(c => c.Id).ToList();
        var dependent = pending.Where(i => plan.Cells[i].StartsFrom is { } from && pending.Contains(ids.IndexOf(from))).ToList();
        var first = pending.Except(dependent).ToList();

        string directory = Path.Combine(root, Directory);
        System.IO.Directory.CreateDirectory(directory);
        string name = Path.GetFileName(root);
        string script = Path.Combine(directory, ScriptName), after = Path.Combine(directory, DependentScriptName);
        File.WriteAllText(script, Script(name, root, first, request));
        AnsiConsole.MarkupLine($"wrote {Markup.Escape(script)}: {first.Count} of {plan.Cells.Count} cells, one array task each");
        if (dependent.Count > 0)
        {
            File.WriteAllText(after, Script(name, root, dependent, request, after: script));
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(after)}: {dependent.Count} cells that start from the first array's models, to run once it has succeeded");
        }
        else File.Delete(after);
        if (dryRun) return 0;

        var jobs = new List<string> { Submit(script) };
        if (dependent.Count > 0) jobs.Add(Submit(after, $"--dependency=afterok:{jobs[0]}", "--kill-on-invalid-dep=yes"));
        File.AppendAllLines(Path.Combine(directory, JobsFile), jobs);
        AnsiConsole.MarkupLine($"submitted job {string.Join(" and job ", jobs)}; logs: {Markup.Escape(Path.Combine(directory, "cell-<index>.log"))}; " +
                               $"foresight run {Markup.Escape(Path.Combine(root, Plan.FileName))} --status shows each cell");
        if (!result.GetValue(flags.Wait)) return 0;
        foreach (string job in jobs) WaitFor(job, line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"));
        var failed = executor.Pending(plan);
        if (failed.Count > 0)
            throw new UserError($"job {string.Join(", ", jobs)} ended with {failed.Count} cell(s) unfinished: see {string.Join(", ", failed.Select(i => LogOf(root, i)))}");
        Experiment.Finish(root, plan, Experiment.Execute(root, plan), wide);
        return 0;
    }

    /// <summary>Cell indices as sbatch's --array takes them: 0,1,2,3,7 -> 0-3,7.</summary>
    public static string Ranges(IReadOnlyList<int> cells)
    {
        var parts = new List<string>();
        for (int i = 0; i < cells.Count;)
        {
            int j = i;
            while (j + 1 < cells.Count && cells[j + 1] == cells[j] + 1) j++;
            parts.Add(j == i ? $"{cells[i]}" : $"{cells[i]}-{cells[j]}");
            i = j + 1;
        }
        return string.Join(",", parts);
    }

    /// <summary>Submits a script with sbatch --parsable; returns the job id.</summary>
    public static string Submit(string script, params string[] arguments)
    {
        var (code, output, error) = Execute("sbatch", ["--parsable", .. arguments, script]);
        if (code != 0) throw new UserError($"sbatch refused {script}: {error.Trim().ReplaceLineEndings(" ")}");
        return output.Trim().Split(';')[0];
    }

    /// <summary>Polls squeue until no task of the job is left.</summary>
    public static void WaitFor(string job, Action<string> log)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var (code, output, _) = Execute("squeue", "-h", "-j", job, "-o", "%i %T");
            if (code == 0 && output.Trim().Length == 0) return;
            if (clock.Elapsed.TotalSeconds >= 30)
            {
                log($"job {job}: {output.Trim().ReplaceLineEndings(", ")}");
                clock.Restart();
            }
            Thread.Sleep(1000);
        }
    }

    /// <summary>Whether a program is on PATH.</summary>
    public static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, program)));

    /// <summary>Runs a program to its end; a program that is not there is code 127, as a shell says.</summary>
    public static (int Code, string Output, string Error) Execute(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        if (!OnPath(program)) return (127, "", $"{program}: not found");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    private static string Quote(string text) => $"'{text.Replace("'", "'\\''")}'";
}
