using System.Text.Json;
using System.Text.Json.Nodes;
using Foresight.Methods;
using Foresight.Runs;
using Foresight.Training;

namespace Foresight.Probes;

/// <summary>How many fresh examples each model probe uses (the decode-order probe uses the Clever-Hans count).</summary>
public sealed record ProbeSizes(int CleverHansExamples = 1_000, int PlanningExamples = 5_000);

/// <summary>Every probe, run on a saved run; each one's numbers go to probe-&lt;name&gt;.json in the run directory.</summary>
public static class ProbeSuite
{
    /// <summary>Every probe, in the order they run and their columns appear.</summary>
    public static IReadOnlyList<IProbe> All { get; } =
        [new CleverHansProbe(), new DecodeOrderProbe(), new DecodeStepsProbe(), new IndecipherableProbe(), new PlanningProbe(), new SearchProbe()];

    public static IReadOnlyList<string> Names { get; } = [.. All.Select(p => p.Name)];

    /// <summary>
    /// Runs the named probes (all of them when <paramref name="only"/> is null). A probe named
    /// explicitly that does not apply to the run is an error; with all, it is skipped and said so.
    /// With <paramref name="missingOnly"/>, a probe whose file the run already has is not run again (a resumed compare).
    /// </summary>
    public static IReadOnlyDictionary<string, object> Run(RunDirectory run, ProbeSizes sizes, string? only = null, Action<string>? log = null, bool missingOnly = false)
    {
        if (only is not null && !Names.Contains(only))
            throw new UserError($"unknown probe '{only}' (known: {string.Join(", ", Names)})");
        var wanted = All.Where(p => (only is null || p.Name == only) && !(missingOnly && File.Exists(run.ProbeFile(p.Name)))).ToList();
        var written = new Dictionary<string, object>();
        if (wanted.Count == 0) return written;

        var (config, task, trained) = Trainer.LoadTrained(run);
        using var _ = trained;
        var method = IFineTuning.Underlying(trained); // a fine-tuned model is probed as its own method reads it
        var context = new ProbeContext(run, config, method, sizes);
        var header = new JsonObject { ["method"] = config.Method, ["task"] = task.Description, ["seed"] = config.Training.Seed };
        foreach (var probe in wanted)
        {
            if (probe.WhyNot(method, task, config) is { } why)
            {
                if (only is not null) throw new UserError($"the {probe.Name} probe does not apply to this run: {why}");
                log?.Invoke($"{probe.Name}: skipped, {why}");
                continue;
            }
            var result = probe.Run(context);
            Json.WriteAtomic(run.ProbeFile(probe.Name), Json.Merge(new JsonObject { ["probe"] = probe.Name }, header,
                JsonSerializer.SerializeToNode(result, probe.ResultType, Json.File)!.AsObject()));
            written[probe.Name] = result;
            log?.Invoke($"wrote {run.ProbeFile(probe.Name)}");
        }
        return written;
    }

    /// <summary>Every probe result a run has, typed, by probe name.</summary>
    public static IReadOnlyDictionary<string, object> Read(RunDirectory run)
    {
        var results = new Dictionary<string, object>();
        foreach (var probe in All)
        {
            string file = run.ProbeFile(probe.Name);
            if (!File.Exists(file)) continue;
            try { results[probe.Name] = JsonSerializer.Deserialize(File.ReadAllText(file), probe.ResultType, Json.File)!; }
            catch (JsonException e) { throw new UserError($"{file} is not a valid {probe.Name} probe result: {e.Message}"); }
        }
        return results;
    }
}
