using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Foresight.Methods;
using Foresight.Models;
using Foresight.Tasks;

namespace Foresight.Runs;

/// <summary>
/// What a run was asked to do: enough to rebuild its task, data and model exactly. <paramref name="Options"/> are the
/// chosen method's own (null: its defaults, or a method without options); config.json records them and no other method's.
/// </summary>
[JsonConverter(typeof(RunConfigConverter))]
public sealed record RunConfig(string Method, TaskSpec Task, ModelSize Model, TrainingConfig Training, IMethodOptions? Options = null)
{
    /// <summary>The method's options as it will run them: the given ones, or its defaults.</summary>
    public IMethodOptions? MethodOptions => Options ?? MethodRegistry.DefaultOptions(Method);

    /// <summary>
    /// The variant a run is: its method, marked with whatever sets it apart from the method's defaults (a narrowed loss,
    /// the Mamba backbone, rotary positions, and each option its method declares with a label):
    /// "diffusion [causal-prefix attention, neighbour readout]".
    /// </summary>
    public string Label
    {
        get
        {
            var marks = new List<string>();
            if (Training.LossPositions != LossPositions.All) marks.Add($"{Json.EnumName(Training.LossPositions)} loss");
            if (Model.Backbone != BackboneKind.Gpt) marks.Add(Json.EnumName(Model.Backbone));
            if (Model.Positions != PositionEncoding.Learned) marks.Add($"{Json.EnumName(Model.Positions)} positions");
            marks.AddRange(MethodOptionSet.Marks(Method, MethodOptions));
            return marks.Count == 0 ? Method : $"{Method} [{string.Join(", ", marks)}]";
        }
    }

    /// <summary>config.json: method, task, model, training and, for a method that has options, every one of them.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["method"] = Method,
            ["task"] = Task.ToJson(),
            ["model"] = Json.ToObject(Model),
            ["training"] = Json.ToObject(Training),
        };
        if (MethodOptions is { } options) json["options"] = MethodOptionSet.ToJson(Method, options);
        return json;
    }

    /// <summary>
    /// A config from config.json's object. Older files still load: a model without "precision" multiplied in fp32,
    /// training without "weight_decay_on" decayed every parameter, training without "test_set" drew its training and test sets
    /// as independent streams, and options written as one flat object of every
    /// method's options ("mtp_heads") keep only the chosen method's.
    /// </summary>
    public static RunConfig FromJson(JsonObject json)
    {
        var known = new[] { "method", "task", "model", "training", "options" };
        if (json.Select(p => p.Key).FirstOrDefault(k => !known.Contains(k)) is { } unknown)
            throw new ConfigError(unknown, $"is not a field of a run config (known: {string.Join(", ", known)})");
        string method = json["method"]?.GetValue<string>() ?? throw new ConfigError("method", "is missing");
        MethodRegistry.Validate(method);
        var task = json["task"] as JsonObject ?? throw new ConfigError("task", "is missing");
        var model = (json["model"] as JsonObject ?? throw new ConfigError("model", "is missing")).DeepClone().AsObject();
        if (!model.ContainsKey("precision")) model["precision"] = Json.EnumName(Precision.Fp32);
        var training = (json["training"] as JsonObject ?? throw new ConfigError("training", "is missing")).DeepClone().AsObject();
        if (!training.ContainsKey("weight_decay_on")) training["weight_decay_on"] = Json.EnumName(WeightDecayOn.All);
        if (!training.ContainsKey("test_set")) training["test_set"] = Json.EnumName(TestSetDraw.Independent);
        var options = json["options"] as JsonObject;
        bool legacy = MethodOptionSet.IsLegacy(options);
        return new RunConfig(method, TaskSpec.FromJson(task), Strict<ModelSize>(model, "model"), Strict<TrainingConfig>(training, "training"),
            legacy ? MethodOptionSet.FromLegacyJson(method, options) : MethodOptionSet.FromJson(method, options));
    }

    /// <summary>A config.json file; any problem with it is one line naming the file.</summary>
    public static RunConfig Load(string file)
    {
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(file)) as JsonObject ?? throw new UserError($"{file} is not a JSON object");
            return FromJson(json);
        }
        catch (JsonException e) { throw new UserError($"{file} is not a valid run config: {e.Message}"); }
        catch (ConfigError e) { throw new UserError($"{file}: {e.Message}"); }
    }

    /// <summary>A record from its JSON object; a field it does not have is a <see cref="ConfigError"/> naming it.</summary>
    internal static T Strict<T>(JsonObject json, string what)
    {
        try
        {
            return json.Deserialize<T>(new JsonSerializerOptions(Json.File) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow })
                ?? throw new ConfigError(what, "is empty");
        }
        catch (JsonException e)
        {
            string field = e.Path?.TrimStart('$', '.') is { Length: > 0 } path ? $"{what}.{path}" : what;
            throw new ConfigError(field, $"is not valid: {e.Message.Split(" Path:")[0]}");
        }
    }
}

internal sealed class RunConfigConverter : JsonConverter<RunConfig>
{
    public override RunConfig Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        RunConfig.FromJson(JsonNode.Parse(ref reader)?.AsObject() ?? throw new JsonException("a run config is null"));

    public override void Write(Utf8JsonWriter writer, RunConfig value, JsonSerializerOptions options) => value.ToJson().WriteTo(writer, options);
}
