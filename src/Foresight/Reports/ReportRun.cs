using Foresight.Runs;

namespace Foresight.Reports;

/// <summary>One run as a report sees it: what it was, how it went, and what its probes found.</summary>
public sealed record ReportRun(string Path, RunConfig Config, IReadOnlyList<EvaluationLine> Metrics, RunResult? Summary,
    IReadOnlyDictionary<string, object> Probes)
{
    /// <summary>The row a run belongs to (<see cref="RunConfig.Label"/>), so that only seeds of the same variant are averaged together.</summary>
    public string Label => Config.Label;

    public Tasks.ITask Task => Config.Task.Build();

    /// <summary>A probe's typed result (see <see cref="Probes.IProbe.ResultType"/>), or null when the run has not been probed with it.</summary>
    public object? Probe(string name) => Probes.GetValueOrDefault(name);

    public static ReportRun Load(RunDirectory run)
    {
        return new ReportRun(run.Path, run.ReadConfig(), run.ReadEvaluations(),
            File.Exists(run.SummaryFile) ? run.ReadResult() : null, Foresight.Probes.ProbeSuite.Read(run));
    }

    /// <summary>
    /// The runs named by <paramref name="paths"/>: a run directory is itself; any other directory
    /// (a comparison, a grid, a root) stands for every run below it.
    /// </summary>
    public static IReadOnlyList<ReportRun> Find(IEnumerable<string> paths)
    {
        var runs = new List<ReportRun>();
        foreach (string path in paths)
        {
            if (!Directory.Exists(path)) throw new UserError($"'{path}' is not a directory");
            var directories = File.Exists(System.IO.Path.Combine(path, "config.json"))
                ? [path]
                : Directory.EnumerateFiles(path, "config.json", SearchOption.AllDirectories).Select(f => System.IO.Path.GetDirectoryName(f)!).Order(StringComparer.Ordinal).ToList();
            if (directories.Count == 0) throw new UserError($"'{path}' holds no runs (no config.json below it)");
            runs.AddRange(directories.Select(d => Load(RunDirectory.Open(d))));
        }
        return runs.DistinctBy(r => System.IO.Path.GetFullPath(r.Path)).ToList();
    }
}
