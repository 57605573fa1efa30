using System.Text.Json;
using System.Text.Json.Nodes;
using Foresight.Methods;
using Foresight.Models;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;

namespace Foresight.Experiments;

/// <summary>
/// One run of a plan, with its own directory <paramref name="Id"/> under the experiment's root. Runs of one
/// <paramref name="Group"/> differ only in their seed and are pooled over seeds. <paramref name="StartsFrom"/>: the id of
/// the cell whose trained model this one starts from (compare's grpo starts from its ntp run), which must finish first.
/// </summary>
public sealed record ExperimentCell(string Id, string Group, RunConfig Config, string? StartsFrom = null)
{
    public ITask Task => Config.Task.Build();

    /// <summary>Whether the method can be built before anything trains, so a bad option fails first: not while the model it starts from does not exist yet.</summary>
    public bool CheckBeforeStart => StartsFrom is null;

    /// <summary>
    /// The cell of a run in a grid, its directory named by what varies: task, method (with any option not at its
    /// default), model, budget, seed; its group is that directory without the seed.
    /// </summary>
    public static ExperimentCell For(RunConfig config)
    {
        var model = config.Model;
        string size = $"L{model.Layers}xW{model.Width}xH{model.Heads}" + (model.Backbone == BackboneKind.Gpt ? "" : $"-{Json.EnumName(model.Backbone)}")
            + (model.Precision == Precision.Bf16 ? "" : $"-{Json.EnumName(model.Precision)}")
            + (model.Positions == PositionEncoding.Learned ? "" : $"-{Json.EnumName(model.Positions)}");
        string variant = MethodOptionSet.Slug(config.Method, config.MethodOptions) is { Length: > 0 } slug ? $"{config.Method}-{slug}" : config.Method;
        if (config.Training.LossPositions != LossPositions.All) variant += $"-{Json.EnumName(config.Training.LossPositions)}-loss";
        string group = Path.Combine(config.Task.Label, variant, size, $"n{config.Training.TrainSamples}x{config.Training.Epochs}");
        return new ExperimentCell(Path.Combine(group, $"seed-{config.Training.Seed}"), group, config);
    }
}

/// <summary>
/// An experiment file: a grid of tasks x model sizes x budgets x seeds x methods over one base training config.
/// Each budget is a set of training fields that override the base, e.g. <c>{"train_samples": 100000}</c>. A method
/// entry is a name or a variant: the method with its own options and its own model or training overrides, so one file
/// can hold ntp 4 x 128 beside bst 8 x 128 and diffusion with its flags. Every cell has a fixed directory, so running
/// the file again skips finished cells and resumes interrupted ones. A method with a batch size or learning rate of
/// its own (diffusion) trains with it unless the file names one.
/// <code>
/// {"tasks": [{"name": "star", "degree": 2, "path_length": 5, "nodes": 50}],
///  "methods": ["ntp", {"method": "bst", "model": {"layers": 8}},
///              {"method": "diffusion", "options": {"attention": "causal-prefix", "neighbours": true}}],
///  "seeds": [0, 1, 2],
///  "models": [{"layers": 4, "width": 128, "heads": 4}],
///  "budgets": [{"train_samples": 100000}, {"train_samples": 200000}],
///  "training": {"batch_size": 256, "learning_rate": 0.0005}}
/// </code>
/// </summary>
public static class ExperimentFile
{
    private static readonly string[] VariantFields = ["method", "options", "model", "training"];

    /// <summary>One entry of "methods": the method, its options (null: defaults) and its overrides of the grid's model and training.</summary>
    private sealed record Variant(string Method, IMethodOptions? Options, JsonObject Model, JsonObject Training);

    public static List<ExperimentCell> Load(string path)
    {
        if (!File.Exists(path)) throw new UserError($"experiment file '{path}' does not exist");
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new UserError($"{path} is empty"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { throw new UserError($"{path} is not a JSON object: {e.Message}"); }

        var known = new[] { "tasks", "methods", "seeds", "models", "budgets", "training", "about" }; // about: free text for people (sources, wall times)
        foreach (var (key, _) in json)
            if (!known.Contains(key)) throw new UserError($"{path}: unknown field '{key}' (known: {string.Join(", ", known)})");

        var tasks = Array(json, "tasks", path).Select((t, i) => ParseTask(t, $"{path}: tasks[{i}]")).ToList();
        var variants = Array(json, "methods", path).Select((m, i) => ParseVariant(m, $"{path}: methods[{i}]")).ToList();
        var seeds = Array(json, "seeds", path, fallback: [0]).Select(s => s.GetValue<int>()).ToList();
        var models = Array(json, "models", path, fallback: [new JsonObject { ["layers"] = 4, ["width"] = 128, ["heads"] = 4 }]).Select(m => m.AsObject()).ToList();
        var baseTraining = json["training"]?.AsObject() ?? new JsonObject();
        var budgets = Array(json, "budgets", path, fallback: [new JsonObject()]).Select(b => b.AsObject()).ToList();

        var cells = new List<ExperimentCell>();
        foreach (var task in tasks)
            foreach (var modelJson in models)
                foreach (var budget in budgets)
                    foreach (int seed in seeds)
                        foreach (var (variant, index) in variants.Select((v, i) => (v, i)))
                        {
                            string where = $"{path}: methods[{index}] ({variant.Method})";
                            try
                            {
                                var model = RunConfig.Strict<ModelSize>(Json.Merge(modelJson, variant.Model), "model");
                                model.Validate();
                                var trainingJson = Json.Merge(baseTraining, budget, variant.Training, new JsonObject { ["seed"] = seed });
                                var training = RunConfig.Strict<TrainingConfig>(trainingJson, "training").WithOwnDefaults(variant.Method,
                                    batchSizeGiven: trainingJson.ContainsKey("batch_size"), learningRateGiven: trainingJson.ContainsKey("learning_rate"));
                                training.Validate();
                                cells.Add(ExperimentCell.For(new RunConfig(variant.Method, task, model, training, variant.Options)));
                            }
                            catch (ConfigError e) { throw new UserError($"{where}: {e.Message}"); }
                        }
        if (cells.Select(c => c.Id).Distinct().Count() != cells.Count)
            throw new UserError($"{path}: two cells of the grid are the same run (a value is listed twice)");
        return cells;
    }

    private static TaskSpec ParseTask(JsonNode node, string where)
    {
        if (node is not JsonObject json) throw new UserError($"{where} must be an object with \"name\"");
        try
        {
            var spec = TaskSpec.FromJson(json);
            spec.Build(); // a graph the options cannot make fails here, naming the file
            return spec;
        }
        catch (ConfigError e) { throw new UserError($"{where}: {e.Message}"); }
    }

    private static Variant ParseVariant(JsonNode node, string where)
    {
        if (node is JsonValue value && value.TryGetValue(out string? name))
        {
            MethodRegistry.Validate(name);
            return new Variant(name, null, [], []);
        }
        if (node is not JsonObject entry) throw new UserError($"{where} must be a method name or an object with \"method\"");
        foreach (var (key, _) in entry)
            if (!VariantFields.Contains(key)) throw new UserError($"{where}: unknown field '{key}' (known: {string.Join(", ", VariantFields)})");
        string method = entry["method"] is JsonValue m && m.TryGetValue(out string? text) ? text : throw new UserError($"{where} has no \"method\"");
        MethodRegistry.Validate(method);
        JsonObject Object(string key) => entry[key] switch
        {
            null => [],
            JsonObject o => o,
            _ => throw new UserError($"{where}: '{key}' must be an object"),
        };
        try { return new Variant(method, MethodOptionSet.FromJson(method, Object("options")), Object("model"), Object("training")); }
        catch (ConfigError e) { throw new UserError($"{where}: options: {e.Message}"); }
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
}
