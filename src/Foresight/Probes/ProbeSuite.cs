using System.Text.Json.Nodes;
using Foresight.Methods;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;

namespace Foresight.Probes;

/// <summary>How many fresh examples each model probe uses (the decode-order probe uses the Clever-Hans count).</summary>
public sealed record ProbeSizes(int CleverHansExamples = 1_000, int PlanningExamples = 5_000);

/// <summary>Runs probes on a saved run and writes each one's numbers to probe-&lt;name&gt;.json in the run directory.</summary>
public static class ProbeSuite
{
    public static readonly string[] Names = [CleverHansProbe.Name, DecodeOrderProbe.Name, DecodeStepsProbe.Name, IndecipherableProbe.Name, PlanningProbe.Name, SearchProbe.Name];

    /// <summary>
    /// Runs the named probes (all of them when <paramref name="only"/> is null). A probe named
    /// explicitly that does not apply to the run is an error; with all, it is skipped and said so.
    /// With <paramref name="missingOnly"/>, a probe whose file the run already has is not run again (a resumed compare).
    /// </summary>
    public static IReadOnlyDictionary<string, JsonObject> Run(RunDirectory run, ProbeSizes sizes, string? only = null, Action<string>? log = null, bool missingOnly = false)
    {
        if (only is not null && !Names.Contains(only))
            throw new UserError($"unknown probe '{only}' (known: {string.Join(", ", Names)})");
        var (config, task, trained) = Trainer.LoadTrained(run);
        using var _ = trained;
        var method = IFineTuning.Underlying(trained); // a fine-tuned model is probed as its own method reads it
        var header = new JsonObject { ["method"] = config.Method, ["task"] = task.Description, ["seed"] = config.Training.Seed };
        var written = new Dictionary<string, JsonObject>();

        void Save(string name, JsonObject numbers)
        {
            var json = Json.Merge(new JsonObject { ["probe"] = name }, header, numbers);
            Json.WriteAtomic(run.ProbeFile(name), json);
            written[name] = json;
            log?.Invoke($"wrote {run.ProbeFile(name)}");
        }

        bool Wanted(string name, bool applies, string why)
        {
            if (missingOnly && File.Exists(run.ProbeFile(name))) return false;
            if (only is null && !applies) log?.Invoke($"{name}: skipped, {why}");
            return (only is null || only == name) && (applies || only == name);
        }

        bool branching = task is IBranchingTask;
        if (Wanted(CleverHansProbe.Name, method is ILeftToRightDecoder && branching, $"{config.Method} does not write the answer left to right in task order"))
            Save(CleverHansProbe.Name, Json.ToObject(CleverHansProbe.Run(method, task, ProbeData.Examples(task, sizes.CleverHansExamples, config.Training.Seed))));
        if (Wanted(DecodeOrderProbe.Name, method is MaskedDiffusion, $"{config.Method} writes its answer in a fixed order"))
            Save(DecodeOrderProbe.Name, Json.ToObject(DecodeOrderProbe.Run(method, task, ProbeData.Examples(task, sizes.CleverHansExamples, config.Training.Seed))));
        if (Wanted(DecodeStepsProbe.Name, method is MaskedDiffusion, $"{config.Method} has no denoising steps to vary"))
        {
            using var test = Trainer.MakeTestSet(task, config.Training);
            Save(DecodeStepsProbe.Name, Json.ToObject(DecodeStepsProbe.Run(method, task, test)));
        }
        if (Wanted(IndecipherableProbe.Name, true, ""))
            Save(IndecipherableProbe.Name, Json.ToObject(IndecipherableProbe.Run(run)));
        if (Wanted(PlanningProbe.Name, method is IPrefixStates && branching, $"{config.Method} does not expose hidden states"))
            Save(PlanningProbe.Name, Json.ToObject(PlanningProbe.Run(method, task, ProbeData.Examples(task, sizes.PlanningExamples, config.Training.Seed), config.Training.Seed)));
        if (Wanted(SearchProbe.Name, SearchProbe.Applies(method, task), $"{config.Method} does not write one token at a time, or {task.Description} has no verifier"))
            Save(SearchProbe.Name, Json.ToObject(SearchProbe.Run(method, task, ProbeData.Examples(task, sizes.CleverHansExamples, config.Training.Seed), config.Training.Seed)));
        return written;
    }
}
