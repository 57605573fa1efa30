using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Foresight.Cli;

/// <summary>What a cluster asks of a job array, from the flags.</summary>
internal sealed record SlurmRequest(string? Partition, string? Time, int CpusPerTask, string? Memory, int? MaxParallel, string? Account, IReadOnlyList<string> ExtraArguments);

/// <summary>
/// Runs a plan as a Slurm job array, one array task per unfinished cell: each task runs `foresight run FILE --out OUT
/// --cell I` with the program that submitted it, so it goes through the same executor as a local run. The script asks
/// for USR1 two minutes before the time limit and --requeue; the task forwards the signal, training checkpoints at
/// the next step and exits 75, and the script requeues the task, which resumes from that checkpoint.
/// </summary>
internal static partial class SlurmExecutor
{
    public const string Directory = "slurm";
    public const string ScriptName = "array.sbatch";

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

    /// <summary>The sbatch script of one array over <paramref name="pending"/> cell indices.</summary>
    public static string Script(string name, string planFile, string runArguments, string root, IReadOnlyList<int> pending, SlurmRequest request)
    {
        string logs = Path.Combine(root, Directory);
        var script = new StringBuilder();
        script.AppendLine("#!/bin/bash");
        script.AppendLine($"# Foresight: the unfinished cells of {planFile}, one array task each; written by foresight run --executor slurm.");
        script.AppendLine($"#SBATCH --job-name=foresight-{name}");
        script.AppendLine($"#SBATCH --array={string.Join(",", pending)}{(request.MaxParallel is { } n ? $"%{n}" : "")}");
        script.AppendLine($"#SBATCH --output={Path.Combine(logs, "cell-%a.log")}");
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
        script.AppendLine($"{ProgramCommand()} run {Quote(planFile)}{runArguments} --out {Quote(root)} --cell \"$SLURM_ARRAY_TASK_ID\" &");
        script.AppendLine("cell=$!");
        script.AppendLine("trap 'kill -USR1 $cell' USR1 TERM   # training writes its checkpoint at the next step and exits 75");
        script.AppendLine("wait $cell; code=$?");
        script.AppendLine("while kill -0 $cell 2>/dev/null; do wait $cell; code=$?; done   # a trapped signal ends the first wait early");
        script.AppendLine("if [ \"$code\" -eq 75 ]; then scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"; fi");
        script.AppendLine("exit $code");
        return script.ToString();
    }

    /// <summary>Submits a script with sbatch --parsable; returns the job id.</summary>
    public static string Submit(string script)
    {
        var (code, output, error) = Execute("sbatch", "--parsable", script);
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

    private static (int Code, string Output, string Error) Execute(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    private static string Quote(string text) => $"'{text.Replace("'", "'\\''")}'";
}
