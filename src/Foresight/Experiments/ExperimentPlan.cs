using System.Text.Json;
using System.Text.Json.Nodes;
using Foresight.Methods;
using Foresight.Models;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;

namespace Foresight.Experiments;

/// <summary>One cell of a grid: a run with its own directory under the experiment's root.</summary>
public sealed record ExperimentCell(string Id, RunConfig Config, ITask Task)
{
    /// <summary>The cell of a run, its directory named by what varies in a grid: task, method, model, budget, seed.</summary>
    public static ExperimentCell For(RunConfig config, ITask task)
    {
        var model = config.Model;
        string size = $"L{model.Layers}xW{model.Width}xH{model.Heads}" + (model.Backbone == BackboneKind.Gpt ? "" : $"-{Json.EnumName(model.Backbone)}")
            + (model.Precision == Precision.Bf16 ? "" : $"-{Json.EnumName(model.Precision)}");
        string id = Path.Combine(task.Description, config.Method, size, $"n{config.Training.TrainSamples}x{config.Training.Epochs}", $"seed-{config.Training.Seed}");
        return new ExperimentCell(id, config, task);
    }
}

/// <summary>
/// An experiment file: a grid of tasks x model sizes x budgets x seeds x methods over one base
/// training config. Each budget is a set of training fields that override the base, e.g.
/// <c>{"train_samples": 100000}</c>. Every cell has a fixed directory, so running the file again
/// skips finished cells and resumes interrupted ones. A method with a batch size or learning rate
/// of its own (diffusion) trains with it unless the file names one.
/// <code>
/// {"tasks": [{"name": "star", "degree": 2, "path_length": 5, "nodes": 50}],
///  "methods": ["ntp", "reverse"], "seeds": [0, 1, 2],
///  "models": [{"layers": 4, "width": 128, "heads": 4}],
///  "budgets": [{"train_samples": 100000}, {"train_samples": 200000}],
///  "training": {"batch_size": 256, "learning_rate": 0.0005}}
/// </code>
/// </summary>
public static class ExperimentPlan
{
    public static List<ExperimentCell> Load(string path)
    {
        if (!File.Exists(path)) throw new UserError($"experiment file '{path}' does not exist");
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new UserError($"{path} is empty"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { throw new UserError($"{path} is not a JSON object: {e.Message}"); }

        var known = new[] { "tasks", "methods", "seeds", "models", "budgets", "training" };
        foreach (var (key, _) in json)
            if (!known.Contains(key)) throw new UserError($"{path}: unknown field '{key}' (known: {string.Join(", ", known)})");

        var tasks = Array(json, "tasks", path).Select(t => TaskRegistry.FromJson(t.AsObject())).ToList();
        var methods = Array(json, "methods", path).Select(m => m.GetValue<string>()).ToList();
        methods.ForEach(MethodRegistry.Validate);
        var seeds = Array(json, "seeds", path, fallback: [0]).Select(s => s.GetValue<int>()).ToList();
        var models = Array(json, "models", path, fallback: [new JsonObject { ["layers"] = 4, ["width"] = 128, ["heads"] = 4 }])
            .Select(m => Deserialize<ModelSize>(m, path, "models")).ToList();
        models.ForEach(m => m.Validate());
        var baseTraining = json["training"]?.AsObject() ?? new JsonObject();
        var budgets = Array(json, "budgets", path, fallback: [new JsonObject()]).Select(b => b.AsObject()).ToList();

        var cells = new List<ExperimentCell>();
        foreach (var task in tasks)
            foreach (var model in models)
                foreach (var budget in budgets)
                    foreach (int seed in seeds)
                        foreach (string method in methods)
                        {
                            var trainingJson = Json.Merge(baseTraining, budget, new JsonObject { ["seed"] = seed });
                            var training = MethodRegistry.WithOwnDefaults(method, Deserialize<TrainingConfig>(trainingJson, path, "training/budgets"),
                                batchSizeGiven: trainingJson.ContainsKey("batch_size"), learningRateGiven: trainingJson.ContainsKey("learning_rate"));
                            training.Validate();
                            cells.Add(ExperimentCell.For(new RunConfig(method, task.ToJson(), model, training), task));
                        }
        if (cells.Select(c => c.Id).Distinct().Count() != cells.Count)
            throw new UserError($"{path}: two cells of the grid are the same run (a value is listed twice)");
        return cells;
    }

    private static List<JsonNode> Array(JsonObject json, string key, string path, JsonNode[]? fallback = null)
    {
        var node = json[key];
        if (node is null)
            return fallback?.ToList() ?? throw new UserError($"{path}: '{key}' is required");
        if (node is not JsonArray array || array.Count == 0 || array.Any(a => a is null))
            throw new UserError($"{path}: '{key}' must be a non-empty list");
        return array.Select(a => a!).ToList();
    }

    private static T Deserialize<T>(JsonNode node, string path, string what)
    {
        try
        {
            return node.Deserialize<T>(new JsonSerializerOptions(Json.File) { UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow })
                ?? throw new UserError($"{path}: an entry of '{what}' is empty");
        }
        catch (JsonException e) { throw new UserError($"{path}: an entry of '{what}' is not valid: {e.Message}"); }
    }
}
