using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Foresight.Tests;

/// <summary>What the soak does to a running compare.</summary>
internal enum FaultKind
{
    /// <summary>SIGKILL: no chance to clean up (a node lost, the OOM killer).</summary>
    Kill,
    /// <summary>SIGTERM: a shutdown, Slurm's scancel.</summary>
    Terminate,
    /// <summary>SIGUSR1: a cluster's warning before its time limit.</summary>
    Warn,
    /// <summary>The file system fills up; the next write that needs space fails.</summary>
    DiskFull,
    /// <summary>The compare's directory refuses writes for a moment.</summary>
    Unwritable,
}

/// <summary>
/// Runs one small compare again and again with faults injected at seeded random moments, restarting the same command
/// after each fault that ends the process, until <paramref name="faults"/> have been injected; a compare that finishes
/// is checked against an uninterrupted run's and the next one starts. Fails (throws) on a process that ends in a way its
/// fault does not explain (a crash, "cannot resume"), on a result that differs, and on temporary files left behind.
/// Every fault, exit and restart goes to <paramref name="log"/>.
/// </summary>
internal sealed class FaultSoak(int faults, int seed, Action<string> log)
{
    /// <summary>Two methods, two seeds, a model and budget of seconds; evaluated often, so there is a checkpoint every few steps.</summary>
    public static readonly string[] Flags =
        ["--methods", "ntp,reverse", "--seeds", "2", "--degree", "2", "--path-length", "4", "--nodes", "20",
         "--layers", "1", "--width", "32", "--heads", "2", "--train-samples", "1536", "--test-samples", "64", "--batch-size", "32",
         "--warmup-steps", "2", "--eval-every", "8", "--eval-samples", "32", "--probe-examples", "100"];

    /// <summary>How long a process may take to stop on a signal or to fail on a full disk, and to run a whole compare.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    /// <summary><see cref="Faulted"/> of the <see cref="Compares"/> compares run (4 runs each) were hit by a fault; the others finished first.</summary>
    public sealed record Outcome(int Faults, IReadOnlyDictionary<FaultKind, int> ByKind, int Faulted, int Compares, int Restarts, string Storage)
    {
        public override string ToString() =>
            $"{Faults} faults of {ByKind.Count(k => k.Value > 0)} kinds ({string.Join(", ", ByKind.Where(k => k.Value > 0).Select(k => $"{k.Value} {Name(k.Key)}"))}) " +
            $"injected into {Faulted} compares of 4 runs each ({Compares} run in all), {Restarts} restarts, 0 lost: every comparison.json and metrics.jsonl equal to the uninterrupted run's";
    }

    public static string Name(FaultKind kind) => kind switch
    {
        FaultKind.Kill => "SIGKILL",
        FaultKind.Terminate => "SIGTERM",
        FaultKind.Warn => "SIGUSR1",
        FaultKind.DiskFull => "disk full",
        _ => "unwritable",
    };

    public Outcome Run()
    {
        using var scratch = new TempDirectory();
        var clock = Stopwatch.StartNew();
        var reference = Cli.Run(["compare", "--out", scratch["uninterrupted"], .. Flags]);
        if (reference.ExitCode != 0) throw new InvalidOperationException($"the uninterrupted compare failed: {reference.Stderr}");
        // Faults come within the length of an uninterrupted compare: the reference's, or a shorter one seen since (a
        // busy machine can slow the reference many times over, and faults would then come after most compares ended).
        double referenceSeconds = clock.Elapsed.TotalSeconds;
        var expected = Results(scratch["uninterrupted"]);
        log($"uninterrupted compare: {referenceSeconds:F1} s; faults come 0.2 to {referenceSeconds + 0.2:F1} s into a process");

        using var storage = Storage.Create(scratch["faulted"], log);
        var kinds = storage.Kinds;
        var byKind = Enum.GetValues<FaultKind>().ToDictionary(k => k, _ => 0);
        var random = new Random(seed);
        var schedule = new Queue<FaultKind>();
        int injected = 0, compares = 0, faulted = 0, restarts = 0;
        while (injected < faults)
        {
            string root = Path.Combine(storage.Root, $"compare-{++compares}");
            int faultsBefore = injected;
            for (int attempt = 1; ; attempt++)
            {
                var process = new Child(root);
                var processClock = Stopwatch.StartNew();
                log($"compare {compares}, attempt {attempt}: started (pid {process.Id})");
                FaultKind? last = null;
                while (!process.HasExited)
                {
                    if (injected >= faults)
                    {
                        process.WaitForExit(Patience);
                        break;
                    }
                    // Each kind once per round of the schedule, in a seeded order: a short soak still sees every kind.
                    if (schedule.Count == 0) foreach (var k in kinds.OrderBy(_ => random.Next())) schedule.Enqueue(k);
                    var kind = schedule.Peek();
                    double delay = 0.2 + random.NextDouble() * referenceSeconds;
                    if (process.WaitForExit(TimeSpan.FromSeconds(delay))) break;
                    schedule.Dequeue();
                    injected++;
                    byKind[kind]++;
                    last = kind;
                    string what = Inject(kind, process, storage, root, random);
                    log($"  fault {injected} ({Name(kind)}) {delay:F2} s in: {what}");
                }
                int code = process.ExitCode;
                log($"  exit {code}{process.LastError}");
                if (code == 0)
                {
                    if (attempt == 1 && last is null && processClock.Elapsed.TotalSeconds < referenceSeconds)
                    {
                        referenceSeconds = processClock.Elapsed.TotalSeconds;
                        log($"  faults now come 0.2 to {referenceSeconds + 0.2:F1} s into a process (this compare's length)");
                    }
                    break;
                }
                if (last is not { } cause || !Explains(cause, code))
                    throw new InvalidOperationException($"compare {compares} ended with exit {code}, which no fault explains (last fault: {(last is { } l ? Name(l) : "none")}):\n{process.Stderr}");
                restarts++;
            }
            Check(root, expected);
            log($"compare {compares}: finished; comparison.json and every metrics.jsonl equal the uninterrupted run's");
            Directory.Delete(root, recursive: true); // the small file system holds one compare at a time
            if (injected > faultsBefore) faulted++;
        }
        return new Outcome(injected, byKind, faulted, compares, restarts, storage.Description);
    }

    /// <summary>Does the fault explain how the process ended? A signal before the handlers are set kills as the default action does.</summary>
    private static bool Explains(FaultKind kind, int code) => kind switch
    {
        FaultKind.Kill => code == 128 + 9,
        FaultKind.Terminate => code is 75 or 128 + 15,
        FaultKind.Warn => code is 75 or 128 + 10,
        _ => code == 74, // the one line for a write the file system refused
    };

    private static string Inject(FaultKind kind, Child process, Storage storage, string root, Random random)
    {
        switch (kind)
        {
            case FaultKind.Kill:
            case FaultKind.Terminate:
            case FaultKind.Warn:
                Signal(process.Id, kind switch { FaultKind.Kill => "KILL", FaultKind.Terminate => "TERM", _ => "USR1" });
                return process.WaitForExit(Patience) ? "stopped" : throw new InvalidOperationException($"the compare did not stop on {Name(kind)} within {Patience}");
            case FaultKind.DiskFull:
                using (storage.FillDisk(root, process.Id))
                    return process.WaitForExit(Patience) ? "stopped on the full disk" : throw new InvalidOperationException($"the compare went on for {Patience} on a full disk");
            default:
                double window = 0.2 + random.NextDouble() * 1.8;
                using (storage.MakeUnwritable(root))
                    return process.WaitForExit(TimeSpan.FromSeconds(window)) ? "stopped on the refused write" : $"went on ({window:F1} s without writes)";
        }
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", $"{pid}"]);
        kill.WaitForExit();
    }

    /// <summary>comparison.json (timings and the directory's own path aside) and every run's metrics.jsonl (timings aside), by file.</summary>
    private static Dictionary<string, string> Results(string root)
    {
        var results = new Dictionary<string, string>
        {
            ["comparison.json"] = Stripped(JsonNode.Parse(File.ReadAllText(Path.Combine(root, "comparison.json")).Replace(root, "ROOT"))!),
        };
        foreach (string metrics in Directory.EnumerateFiles(root, "metrics.jsonl", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            results[Path.GetRelativePath(root, metrics)] = string.Join('\n', File.ReadLines(metrics).Select(l => Stripped(JsonNode.Parse(l)!)));
        return results;
    }

    private static string Stripped(JsonNode node)
    {
        void Strip(JsonNode? n)
        {
            if (n is JsonObject o)
            {
                foreach (string key in o.Select(p => p.Key).Where(k => k.EndsWith("seconds") || k == "tokens_per_second").ToList()) o.Remove(key);
                foreach (var (_, value) in o) Strip(value);
            }
            else if (n is JsonArray a) foreach (var item in a) Strip(item);
        }
        Strip(node);
        return node.ToJsonString();
    }

    private static void Check(string root, Dictionary<string, string> expected)
    {
        var actual = Results(root);
        foreach (var (file, text) in expected)
        {
            if (!actual.TryGetValue(file, out string? got)) throw new InvalidOperationException($"{root}: {file} is missing");
            if (got != text)
            {
                int at = Enumerable.Range(0, Math.Min(got.Length, text.Length)).FirstOrDefault(i => got[i] != text[i]);
                throw new InvalidOperationException($"{root}: {file} differs from the uninterrupted run's at character {at}:\n  expected ...{Excerpt(text, at)}...\n  actual   ...{Excerpt(got, at)}...");
            }
        }
        var left = Directory.EnumerateFiles(root, "*.tmp", SearchOption.AllDirectories).ToList();
        if (left.Count > 0) throw new InvalidOperationException($"{root}: temporary files left behind: {string.Join(", ", left.Select(f => Path.GetRelativePath(root, f)))}");
    }

    private static string Excerpt(string text, int at) => text.Substring(Math.Max(0, at - 60), Math.Min(text.Length, at + 60) - Math.Max(0, at - 60));

    /// <summary>A compare process with its output drained (the last lines of stderr kept for the log).</summary>
    private sealed class Child
    {
        private readonly Process _process;
        private readonly System.Text.StringBuilder _stderr = new();

        public Child(string root)
        {
            _process = Cli.Start(["compare", "--out", root, .. Flags]);
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public int Id => _process.Id;
        public bool HasExited => _process.HasExited;

        public bool WaitForExit(TimeSpan timeout)
        {
            if (!_process.WaitForExit(timeout)) return false;
            _process.WaitForExit(); // the output drained too
            return true;
        }

        public int ExitCode => _process.ExitCode;

        public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

        /// <summary>": " and the last line the process wrote to stderr, if any.</summary>
        public string LastError => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() is { } line ? $": {line}" : "";
    }

    /// <summary>
    /// Where the faulted compares live, and how a full disk and a refused write are made there: a small tmpfs mounted for
    /// the soak (filled by a file; a read-only bind mount over a compare) where the machine allows mounting; else a plain
    /// directory, where the checkpoints' temporary files become links to /dev/full (a write there fails as on a full
    /// disk) and, for a user other than root, the directories lose their write permission.
    /// </summary>
    private abstract class Storage : IDisposable
    {
        public required string Root { get; init; }
        public abstract string Description { get; }
        public abstract IReadOnlyList<FaultKind> Kinds { get; }
        /// <summary>Until disposed, writes of the process <paramref name="pid"/> into the compare fail for want of space.</summary>
        public abstract IDisposable FillDisk(string compare, int pid);
        public abstract IDisposable MakeUnwritable(string compare);
        public virtual void Dispose() { }

        public static Storage Create(string root, Action<string> log)
        {
            Directory.CreateDirectory(root);
            Storage storage = Environment.GetEnvironmentVariable("FORESIGHT_SOAK_NO_MOUNT") != "1" && Command("mount", "-t", "tmpfs", "-o", "size=48m", "foresight-soak", root) == 0
                ? new Tmpfs { Root = root }
                : new Plain { Root = root };
            log($"storage: {storage.Description}");
            return storage;
        }

        protected static int Command(string file, params string[] args)
        {
            var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (string arg in args) start.ArgumentList.Add(arg);
            using var process = Process.Start(start)!;
            process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode;
        }
    }

    private sealed class Tmpfs : Storage
    {
        public override string Description => "a 48 MiB tmpfs (full: a file fills it; unwritable: a read-only bind mount over the compare)";
        public override IReadOnlyList<FaultKind> Kinds => Enum.GetValues<FaultKind>();

        public override IDisposable FillDisk(string compare, int pid)
        {
            string filler = Path.Combine(Root, "filler");
            using (var file = File.Create(filler))
            {
                var block = new byte[1 << 16];
                try { while (true) file.Write(block); }
                catch (IOException) { } // no space left
            }
            return new Undo(() => File.Delete(filler));
        }

        public override IDisposable MakeUnwritable(string compare)
        {
            Directory.CreateDirectory(compare);
            if (Command("mount", "--bind", compare, compare) != 0) throw new InvalidOperationException($"could not bind-mount {compare}");
            if (Command("mount", "-o", "remount,bind,ro", compare) != 0)
            {
                Command("umount", compare);
                throw new InvalidOperationException($"could not make {compare} read-only");
            }
            return new Undo(() =>
            {
                if (Command("umount", compare) != 0 && Command("umount", "-l", compare) != 0) throw new InvalidOperationException($"could not unmount {compare}");
            });
        }

        public override void Dispose()
        {
            if (Command("umount", Root) != 0) Command("umount", "-l", Root);
        }
    }

    private sealed class Plain : Storage
    {
        private static readonly bool IsRoot = Environment.UserName == "root";

        public override string Description => IsRoot
            ? "a plain directory (full: checkpoints' temporary files linked to /dev/full; unwritable: not injected, root writes anywhere)"
            : "a plain directory (full: checkpoints' temporary files linked to /dev/full; unwritable: write permission removed)";

        public override IReadOnlyList<FaultKind> Kinds => IsRoot ? [.. Enum.GetValues<FaultKind>().Where(k => k != FaultKind.Unwritable)] : Enum.GetValues<FaultKind>();

        public override IDisposable FillDisk(string compare, int pid)
        {
            var links = new List<string>();
            if (Directory.Exists(compare))
                foreach (string directory in Directory.EnumerateDirectories(compare, "*", SearchOption.AllDirectories))
                    foreach (string name in new[] { $"model.pt.{pid}.tmp", $"trainer.ckpt.{pid}.tmp" })
                    {
                        string link = Path.Combine(directory, name);
                        if (File.Exists(link)) continue;
                        File.CreateSymbolicLink(link, "/dev/full");
                        links.Add(link);
                    }
            return new Undo(() =>
            {
                foreach (string link in links)
                    if (new FileInfo(link).LinkTarget is not null) File.Delete(link);
            });
        }

        public override IDisposable MakeUnwritable(string compare)
        {
            var directories = Directory.Exists(compare) ? [compare, .. Directory.EnumerateDirectories(compare, "*", SearchOption.AllDirectories)] : new List<string>();
            foreach (string directory in directories) File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            return new Undo(() =>
            {
                foreach (string directory in directories) File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            });
        }
    }

    private sealed class Undo(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }
}
