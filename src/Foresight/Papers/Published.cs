using System.Text.Json;
using System.Text.Json.Nodes;
using Foresight.Models;
using Foresight.Tasks;

namespace Foresight.Papers;

/// <summary>One published accuracy: on which task (only the fields the source states), method and backbone, and where it was read.</summary>
/// <param name="PlusMinus">How far off a value read by eye may be; null where the source gives none.</param>
/// <param name="At">When in training it was reached, where the source gives a curve ("by ~4k iterations").</param>
/// <param name="Creativity">Set instead of an exact match on an open-ended task: the published algorithmic creativity.</param>
/// <param name="Options">The method's options the source ran, where they set it apart (Nagarajan et al.'s teacherless is the hybrid); a run matches when its options agree with every one named.</param>
public sealed record PublishedResult(JsonObject Task, string Method, string Backbone, double ExactMatch, string Read, double? PlusMinus = null, string? At = null,
    double? Creativity = null, JsonObject? Options = null)
{
    /// <summary>The published number, whichever metric it is.</summary>
    public double Value => Creativity ?? ExactMatch;
}

/// <summary>A configuration value of a paper's runs with the source it was taken from.</summary>
public sealed record CitedValue(JsonNode? Value, string Source);

/// <summary>
/// One published table or figure (experiments/papers/*.json, built into the library): its citation, its
/// configuration with the source of every value, a one-line budget, its accuracies, and how to run its grid on
/// one CPU (null where the source gives nothing to scale).
/// </summary>
public sealed record PaperFile(string Id, string Short, string Citation, string Budget, IReadOnlyDictionary<string, CitedValue> Config,
    IReadOnlyList<PublishedResult> Results, CpuScale? CpuScale = null);

/// <summary>
/// A paper's grid shrunk to about half an hour per cell on 2 cores: what it keeps (the graphs, the finite training
/// set reused over epochs, the paper's optimizer recipe in <paramref name="Training"/>) and what it shrinks (the
/// model, and the epochs: as many as <paramref name="TokensPerCell"/> allows, never more than the paper's).
/// </summary>
/// <param name="Why">Where each choice comes from, in one paragraph.</param>
/// <param name="TaskDefaults">Per task name, the fields a source leaves out (the node count N of a graph).</param>
/// <param name="Differences">Per recipe field the scale does not keep (model, batch_size, ...), why not.</param>
/// <param name="TaskTraining">Per task name, training fields over <paramref name="Training"/> (a paper whose tasks have training sets of their own sizes).</param>
public sealed record CpuScale(string Why, Models.ModelSize Model, JsonObject Training, JsonObject TaskDefaults, long TokensPerCell, int MaxEpochs,
    IReadOnlyDictionary<string, string> Differences, JsonObject? TaskTraining = null)
{
    /// <summary>The training fields of one task's cells.</summary>
    public JsonObject TrainingFor(string task) => TaskTraining?[task] is JsonObject own ? Json.Merge(Training, own) : Training;

    /// <summary>
    /// Every field of the paper's recipe this scale changes without saying why in <see cref="Differences"/>: each
    /// <paramref name="config"/> value stated as a number under a training field's name (learning_rate, ...) against the
    /// scale's training value or Foresight's default, its stated model against the scale's, its epochs against
    /// <see cref="MaxEpochs"/> (the scale trains fewer only when its token budget runs out first). One line each.
    /// </summary>
    public IReadOnlyList<string> UndocumentedDifferences(IReadOnlyDictionary<string, CitedValue> config)
    {
        var ours = Json.Merge(Json.ToObject(new Runs.TrainingConfig()), Training);
        var found = new List<string>();
        void Compare(string field, string scaleField, JsonNode? theirs, JsonNode? scale)
        {
            if (JsonNode.DeepEquals(Normalised(theirs), Normalised(scale)) || Differences.ContainsKey(field)) return;
            found.Add($"cpu_scale {scaleField} is {scale?.ToJsonString() ?? "unset"}, the source's {field} is {theirs?.ToJsonString()}, and cpu_scale.differences does not say why");
        }
        foreach (var (field, cited) in config)
        {
            if (field == "model" && cited.Value is JsonObject model)
                Compare(field, "model", model, new JsonObject { ["layers"] = Model.Layers, ["width"] = Model.Width, ["heads"] = Model.Heads });
            else if (field == "epochs" && cited.Value is JsonValue { } epochs && epochs.TryGetValue(out double _))
                Compare(field, "max_epochs", epochs, MaxEpochs);
            else if (ours.ContainsKey(field) && cited.Value is JsonValue value && value.TryGetValue(out double _))
                Compare(field, $"training.{field}", value, ours[field]);
        }
        return found;
    }

    /// <summary>Numbers compared as numbers (5e-4 and 0.0005 are one value).</summary>
    internal static JsonNode? Normalised(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue(out double d) => JsonValue.Create(d),
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, Normalised(p.Value)))),
        _ => node?.DeepClone(),
    };
}

/// <summary>The published numbers Foresight shows beside its own.</summary>
public static class Published
{
    private static readonly Lazy<IReadOnlyList<PaperFile>> Files = new(Load);

    /// <summary>Every paper file, by id.</summary>
    public static IReadOnlyList<PaperFile> All => Files.Value;

    /// <summary>
    /// The published results for a run: same method and backbone, and a task and method options that agree with every
    /// field the source states (a source that names no node count matches any).
    /// </summary>
    public static IReadOnlyList<(PaperFile Paper, PublishedResult Result)> For(ITask task, string method, BackboneKind backbone, Methods.IMethodOptions? options = null)
    {
        var ours = task.Spec.ToJson();
        var ourOptions = options is null ? new JsonObject() : Methods.MethodOptionSet.ToJson(method, options);
        string kind = Json.EnumName(backbone);
        bool creativity = task is IOpenEndedTask;
        return [.. from paper in All
                   from result in paper.Results
                   where result.Method == method && result.Backbone == kind && (result.Creativity is not null) == creativity
                         && result.Task.All(field => ours[field.Key]?.ToJsonString() == field.Value?.ToJsonString())
                         && (result.Options ?? []).All(field => JsonNode.DeepEquals(CpuScale.Normalised(ourOptions[field.Key]), CpuScale.Normalised(field.Value)))
                   select (paper, result)];
    }

    /// <summary>"≈50% ±3" or "≈100% by ~4k iterations".</summary>
    public static string Describe(PublishedResult result) =>
        $"≈{100 * result.Value:0.#}%" + (result.PlusMinus is { } pm ? $" ±{100 * pm:0}" : "") + (result.At is { } at ? $" {at}" : "");

    /// <summary>Whether a JSON file is a paper file (it has a citation) rather than an experiment file.</summary>
    public static bool IsPaperFile(string path)
    {
        if (!File.Exists(path)) return false;
        try { return JsonNode.Parse(File.ReadAllText(path)) is JsonObject json && json.ContainsKey("citation") && json.ContainsKey("results"); }
        catch (JsonException) { return false; }
    }

    /// <summary>Parses one paper file; every configuration value must say where it comes from.</summary>
    public static PaperFile Parse(string text, string name)
    {
        try
        {
            var json = JsonNode.Parse(text)!.AsObject();
            string Required(string key) => json[key]?.GetValue<string>() is { Length: > 0 } value ? value : throw new UserError($"{name}: '{key}' is required");
            var config = new Dictionary<string, CitedValue>();
            foreach (var (key, node) in json["config"]?.AsObject() ?? throw new UserError($"{name}: 'config' is required"))
            {
                string source = node?["source"]?.GetValue<string>() is { Length: > 0 } s ? s : throw new UserError($"{name}: config.{key} has no source");
                config[key] = new CitedValue(node!["value"]?.DeepClone(), source);
            }
            var results = (json["results"]?.AsArray() ?? throw new UserError($"{name}: 'results' is required")).Select((node, i) =>
            {
                var result = node.Deserialize<PublishedResult>(Json.File) ?? throw new UserError($"{name}: results[{i}] is empty");
                if (result.Read is not { Length: > 0 }) throw new UserError($"{name}: results[{i}] does not say where it was read");
                if (result.ExactMatch is < 0 or > 1) throw new UserError($"{name}: results[{i}].exact_match must be a fraction in [0, 1]");
                if (result.Creativity is < 0 or > 1) throw new UserError($"{name}: results[{i}].creativity must be a fraction in [0, 1]");
                Methods.MethodRegistry.Validate(result.Method);
                if (!TaskRegistry.Names.Contains(result.Task?["name"]?.GetValue<string>() ?? ""))
                    throw new UserError($"{name}: results[{i}].task.name must be one of {string.Join(", ", TaskRegistry.Names)}");
                return result;
            }).ToList();
            CpuScale? scale = null;
            if (json["cpu_scale"] is JsonObject cpu)
            {
                scale = new CpuScale(cpu["why"]?.GetValue<string>() ?? throw new UserError($"{name}: cpu_scale.why is required"),
                    Runs.RunConfig.Strict<Models.ModelSize>(cpu["model"]?.AsObject() ?? throw new UserError($"{name}: cpu_scale.model is required"), "cpu_scale.model"),
                    cpu["training"]?.AsObject() ?? [], cpu["task_defaults"]?.AsObject() ?? [],
                    cpu["tokens_per_cell"]?.GetValue<long>() ?? throw new UserError($"{name}: cpu_scale.tokens_per_cell is required"),
                    cpu["max_epochs"]?.GetValue<int>() ?? throw new UserError($"{name}: cpu_scale.max_epochs is required"),
                    (cpu["differences"]?.AsObject() ?? []).ToDictionary(p => p.Key, p => p.Value?.GetValue<string>() is { Length: > 0 } why ? why
                        : throw new UserError($"{name}: cpu_scale.differences.{p.Key} must say why")),
                    cpu["task_training"]?.AsObject());
            }
            return new PaperFile(Required("id"), Required("short"), Required("citation"), Required("budget"), config, results, scale);
        }
        catch (ConfigError e) { throw new UserError($"{name}: {e.Message}"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or KeyNotFoundException or FormatException)
        {
            throw new UserError($"{name} is not a valid paper file: {e.Message}");
        }
    }

    private static IReadOnlyList<PaperFile> Load()
    {
        var assembly = typeof(Published).Assembly;
        return [.. assembly.GetManifestResourceNames().Where(n => n.StartsWith("papers/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Select(name =>
        {
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            return Parse(reader.ReadToEnd(), name);
        })];
    }
}

/// <summary>
/// The "published" column of a results table: each row's published accuracies marked [k], and a footnote per
/// cited paper saying how its budget differs from the rows' own.
/// </summary>
public sealed class PublishedColumn
{
    private readonly List<(PaperFile Paper, SortedSet<string> Ours)> _cited = [];

    /// <summary>The cell of one row, "-" when no paper covers it; <paramref name="ours"/> is the row's budget in words.</summary>
    public string Cell(ITask task, string method, BackboneKind backbone, string ours, Methods.IMethodOptions? options = null)
    {
        var found = Published.For(task, method, backbone, options);
        if (found.Count == 0) return "-";
        return string.Join("; ", found.Select(f =>
        {
            int index = _cited.FindIndex(c => c.Paper.Id == f.Paper.Id);
            if (index < 0)
            {
                _cited.Add((f.Paper, new SortedSet<string>(StringComparer.Ordinal)));
                index = _cited.Count - 1;
            }
            _cited[index].Ours.Add(ours);
            return $"{Published.Describe(f.Result)} [{index + 1}]";
        }));
    }

    public bool Any => _cited.Count > 0;

    /// <summary>"[1] Bachmann & Nagarajan 2024: paper: ...; ours: ..." for each paper cited so far.</summary>
    public IEnumerable<string> Footnotes => _cited.Select((c, i) => $"[{i + 1}] {c.Paper.Short} ({c.Paper.Results[0].Read}): paper: {c.Paper.Budget}; ours: {string.Join(" / ", c.Ours)}");

    /// <summary>A run's budget in words: "1 epoch x 200,000 samples, 4 x 128, 0.8M parameters".</summary>
    public static string Budget(Runs.TrainingConfig training, ModelSize model, long parameters) =>
        $"{training.Epochs} epoch{(training.Epochs == 1 ? "" : "s")} x {training.TrainSamples:N0} samples, {model.Layers} x {model.Width}, {parameters / 1e6:0.0}M parameters";
}
