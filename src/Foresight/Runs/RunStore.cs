
namespace Foresight.Runs;

/// <summary>One run as the store lists it. Scores are null until the run has finished.</summary>
public sealed record RunInfo(
    string Id, string Path, string Method, string Task, int Seed, string Status,
    int Steps, double? ExactMatch, double? FirstDecisionAccuracy, long? SamplesSeen)
{
    /// <summary>The value a --filter key compares against.</summary>
    public string? Field(string key) => key switch
    {
        "id" => Id,
        "method" => Method,
        "task" => Task,
        "seed" => Seed.ToString(),
        "status" => Status,
        _ => null,
    };
}

/// <summary>
/// Every run below a root directory, read from the run directories themselves (config.json,
/// metrics.jsonl, summary.json): there is no index to get out of date.
/// </summary>
public static class RunStore
{
    public static readonly string[] FilterKeys = ["id", "method", "task", "seed", "status"];

    public static List<RunInfo> List(string root)
    {
        if (!Directory.Exists(root)) throw new UserError($"run root '{root}' does not exist");
        return Directory.EnumerateFiles(root, "config.json", SearchOption.AllDirectories)
            .Select(config => Describe(root, System.IO.Path.GetDirectoryName(config)!))
            .OrderBy(r => r.Id, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Runs matching every filter "key=value" (value compared case-insensitively).</summary>
    public static List<RunInfo> Filter(IEnumerable<RunInfo> runs, IReadOnlyList<string> filters)
    {
        var conditions = filters.Select(f =>
        {
            int equals = f.IndexOf('=');
            string key = equals > 0 ? f[..equals] : "";
            if (!FilterKeys.Contains(key))
                throw new UserError($"--filter '{f}' is not key=value with a key among {string.Join(", ", FilterKeys)}");
            return (Key: key, Value: f[(equals + 1)..]);
        }).ToList();
        return runs.Where(r => conditions.All(c => string.Equals(r.Field(c.Key), c.Value, StringComparison.OrdinalIgnoreCase))).ToList();
    }

    /// <summary>A run by id (its path relative to the root) or by its own path.</summary>
    public static RunDirectory Find(string root, string id)
    {
        string candidate = System.IO.Path.Combine(root, id);
        return RunDirectory.Open(Directory.Exists(candidate) ? candidate : id);
    }

    private static RunInfo Describe(string root, string path)
    {
        try { return Read(root, path); }
        catch (Exception e) when (e is UserError or System.Text.Json.JsonException or InvalidOperationException)
        {
            return new RunInfo(System.IO.Path.GetRelativePath(root, path), path, "?", "?", 0, "unreadable", 0, null, null, null);
        }
    }

    private static RunInfo Read(string root, string path)
    {
        var run = RunDirectory.Open(path);
        var config = run.ReadConfig();
        string task = config.Task.Build().Description;
        string id = System.IO.Path.GetRelativePath(root, path);
        int steps = run.ReadEvaluations().Select(l => l.Step).DefaultIfEmpty(0).Max();
        if (!File.Exists(run.SummaryFile))
            return new RunInfo(id, path, config.Method, task, config.Training.Seed, File.Exists(run.TrainingCheckpointFile) ? "interrupted" : "started", steps, null, null, null);
        var summary = run.ReadResult();
        return new RunInfo(id, path, config.Method, task, config.Training.Seed, "finished", steps,
            summary.Test.ExactMatch, summary.Test.FirstDecisionAccuracy, summary.Training.SamplesSeen);
    }
}
