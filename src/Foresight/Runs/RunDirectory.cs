using System.Text.Json;
using System.Text.Json.Nodes;
using Foresight.Training;
using static TorchSharp.torch;

namespace Foresight.Runs;

/// <summary>
/// A run's directory: config.json, metrics.jsonl (one line per evaluation), summary.json and the
/// model checkpoint. All state lives here; nothing is hidden elsewhere.
/// </summary>
public sealed class RunDirectory
{
    private RunDirectory(string path) => Path = path;

    public const string ConfigFileName = "config.json";
    public const string SummaryFileName = "summary.json";
    public const string TrainingCheckpointFileName = "trainer.ckpt";

    public string Path { get; }
    public string ConfigFile => System.IO.Path.Combine(Path, ConfigFileName);
    public string MetricsFile => System.IO.Path.Combine(Path, "metrics.jsonl");
    public string SummaryFile => System.IO.Path.Combine(Path, SummaryFileName);
    public string CheckpointFile => System.IO.Path.Combine(Path, "model.pt");
    public string TrainingCheckpointFile => System.IO.Path.Combine(Path, TrainingCheckpointFileName);

    /// <summary>Where a probe writes its numbers: probe-&lt;name&gt;.json.</summary>
    public string ProbeFile(string probe) => System.IO.Path.Combine(Path, $"probe-{probe}.json");

    /// <summary>A new run directory; refuses one that already holds files, so no earlier run is overwritten.</summary>
    public static RunDirectory Create(string path)
    {
        if (File.Exists(path)) throw new UserError($"'{path}' is a file, not a run directory");
        if (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any())
            throw new UserError($"'{path}' already exists and is not empty; choose another --out");
        Directory.CreateDirectory(path);
        return new RunDirectory(path);
    }

    public static RunDirectory Open(string path)
    {
        if (!Directory.Exists(path)) throw new UserError($"run directory '{path}' does not exist");
        var run = new RunDirectory(path);
        if (!File.Exists(run.ConfigFile)) throw new UserError($"'{path}' is not a run directory: it has no config.json");
        return run;
    }

    /// <summary>
    /// Stopped between writing config.json and its first checkpoint (a kill, a full disk): it trained nothing and holds
    /// nothing but its config, temporary files and <paramref name="alsoIgnored"/>, so it can simply start again.
    /// </summary>
    public bool NeverTrained(params string[] alsoIgnored) => !File.Exists(TrainingCheckpointFile) &&
        Directory.EnumerateFiles(Path).All(f => System.IO.Path.GetFileName(f) is var name && (name == ConfigFileName || alsoIgnored.Contains(name) || AtomicFile.IsTemporary(f)));

    public void WriteConfig(RunConfig config) => Json.WriteAtomic(ConfigFile, config.ToJson());

    public RunConfig ReadConfig() => RunConfig.Load(ConfigFile);

    public void AppendMetrics(JsonObject line) =>
        File.AppendAllText(MetricsFile, line.ToJsonString(Json.Line) + "\n");

    /// <summary>Every evaluation logged so far, in order (none for a run that has not evaluated yet).</summary>
    public IReadOnlyList<JsonObject> ReadMetrics() => File.Exists(MetricsFile)
        ? File.ReadLines(MetricsFile).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList()
        : [];

    /// <summary>Every evaluation logged so far as typed lines, in order.</summary>
    public IReadOnlyList<Runs.EvaluationLine> ReadEvaluations() => [.. ReadMetrics().Select(l => Runs.EvaluationLine.FromJson(l, MetricsFile))];

    /// <summary>Every probe's saved numbers, by probe name (none until a probe has been run on this run).</summary>
    public IReadOnlyDictionary<string, JsonObject> ReadProbes() => Directory.EnumerateFiles(Path, "probe-*.json")
        .Order(StringComparer.Ordinal)
        .ToDictionary(f => System.IO.Path.GetFileNameWithoutExtension(f)["probe-".Length..], f => JsonNode.Parse(File.ReadAllText(f))!.AsObject());

    /// <summary>
    /// On resume: forget evaluations logged after the checkpoint, since they will be made again, and a last line left
    /// unfinished (no newline: its process was killed, or the disk filled, mid-line).
    /// </summary>
    public void DropMetricsAfter(int step)
    {
        if (!File.Exists(MetricsFile)) return;
        string text = File.ReadAllText(MetricsFile);
        var kept = text[..(text.LastIndexOf('\n') + 1)].Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => JsonNode.Parse(l)?["step"]?.GetValue<int>() <= step).ToList();
        AtomicFile.Write(MetricsFile, temp => File.WriteAllLines(temp, kept));
    }

    public void WriteSummary(JsonObject summary) => Json.WriteAtomic(SummaryFile, summary);

    public JsonObject ReadSummary()
    {
        if (!File.Exists(SummaryFile)) throw new UserError($"run '{Path}' has no summary.json: it did not finish");
        return JsonNode.Parse(File.ReadAllText(SummaryFile))!.AsObject();
    }

    /// <summary>
    /// summary.json read back as a typed record, its verdict judged again from metrics.jsonl by the current rule (a pure
    /// function of the run's evaluations), so that a run judged by an older rule reads like a new one.
    /// </summary>
    public Runs.RunResult ReadResult()
    {
        var result = Runs.RunResult.FromJson(ReadSummary(), SummaryFile);
        var evaluations = ReadEvaluations();
        return evaluations.Count < 3 || !File.Exists(ConfigFile) ? result : result with { Convergence = Runs.Convergence.Judge(evaluations, ReadConfig()) };
    }

    public void SaveCheckpoint(nn.Module model)
    {
        AtomicFile.Write(CheckpointFile, temp => model.save(temp));
    }

    public void LoadCheckpoint(nn.Module model)
    {
        if (!File.Exists(CheckpointFile)) throw new UserError($"run '{Path}' has no checkpoint (model.pt)");
        try { model.load(CheckpointFile); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or EndOfStreamException)
        {
            throw new UserError($"{CheckpointFile} does not fit this run's model: {e.Message}");
        }
    }
}
