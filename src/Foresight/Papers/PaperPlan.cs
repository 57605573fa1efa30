using System.Text.Json.Nodes;
using Foresight.Experiments;
using Foresight.Methods;
using Foresight.Models;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;

namespace Foresight.Papers;

/// <summary>A paper's grid as a plan: one cell per graph, backbone and method it reports, at a scale this machine can run.</summary>
public static class PaperPlan
{
    /// <summary>The cells of <paramref name="paper"/>'s grid at its CPU scale (see <see cref="CpuScale"/>).</summary>
    public static List<ExperimentCell> AtCpuScale(PaperFile paper)
    {
        var scale = paper.CpuScale ?? throw new UserError($"{paper.Id} has no cpu_scale: its source gives no configuration to scale ({paper.Budget})");
        var cells = new List<ExperimentCell>();
        // Rows that differ only in fields the defaults fill in (the main table's and a panel's of one setting) are one cell.
        JsonObject TaskOf(PublishedResult r) => Json.Merge(scale.TaskDefaults[r.Task["name"]!.GetValue<string>()]?.AsObject() ?? [], r.Task);
        foreach (var result in paper.Results.DistinctBy(r => (TaskOf(r).ToJsonString(), r.Backbone, r.Method, r.Options?.ToJsonString())))
        {
            string taskName = result.Task["name"]!.GetValue<string>();
            var taskJson = TaskOf(result);
            if (taskName == "star" && taskJson["degree"] is { } degree && taskJson["path_length"] is { } length)
            {
                int needed = 1 + degree.GetValue<int>() * (length.GetValue<int>() - 1); // the smallest N the graph fits in
                if ((taskJson["nodes"]?.GetValue<int>() ?? 0) < needed) taskJson["nodes"] = needed;
            }
            var spec = TaskSpec.FromJson(taskJson);
            var task = spec.Build();
            var model = scale.Model with { Backbone = result.Backbone == "mamba" ? BackboneKind.Mamba : BackboneKind.Gpt };
            var trainingJson = scale.TrainingFor(taskName);
            var given = RunConfig.Strict<TrainingConfig>(trainingJson, "cpu_scale.training");
            long tokensPerPass = (long)given.TrainSamples * (task.PrefixLength + task.TargetLength - 1);
            int epochs = (int)Math.Clamp(Math.Round((double)scale.TokensPerCell / tokensPerPass), 1, scale.MaxEpochs);
            var training = (given with { Epochs = epochs }).WithOwnDefaults(result.Method,
                batchSizeGiven: trainingJson.ContainsKey("batch_size"), learningRateGiven: trainingJson.ContainsKey("learning_rate"));
            training.Validate();
            model.Validate();
            var options = result.Options is null ? null : MethodOptionSet.FromJson(result.Method, result.Options);
            cells.Add(ExperimentCell.For(new RunConfig(result.Method, spec, model, training, options)));
        }
        return cells;
    }
}
