using System.Text.Json;
using System.Text.Json.Nodes;
using Foresight.Probes;
using Foresight.Runs;
using Foresight.Tasks;

namespace Foresight.Experiments;

/// <summary>
/// Everything an experiment runs, as its root's plan.json holds it, so that any executor can run it from that file
/// alone (a Slurm array task runs one cell of it): the <paramref name="Kind"/> (compare, curve or experiment, which names
/// the results file), the cells, what the results file records beside them (<paramref name="Extra"/>), and the probes
/// each cell gets once trained (compare's; null: none).
/// </summary>
public sealed record Plan(string Kind, IReadOnlyList<ExperimentCell> Cells, JsonObject Extra, ProbeSizes? Probes = null)
{
    public const string FileName = "plan.json";
    public static readonly IReadOnlyList<string> Kinds = ["compare", "curve", "experiment"];

    /// <summary>The aggregate's file in the root.</summary>
    public string ResultsFile => Kind switch { "compare" => "comparison.json", "curve" => "curve.json", _ => "experiment.json" };

    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["kind"] = Kind,
            ["cells"] = new JsonArray([.. Cells.Select(c =>
            {
                var cell = new JsonObject { ["id"] = c.Id, ["group"] = c.Group };
                if (c.StartsFrom is { } from) cell["starts_from"] = from;
                cell["config"] = c.Config.ToJson();
                return (JsonNode)cell;
            })]),
            ["extra"] = Extra.DeepClone(),
        };
        if (Probes is { } probes) json["probes"] = Json.ToObject(probes);
        return json;
    }

    /// <summary>Whether a JSON file is a plan (it has "cells"), not an experiment file.</summary>
    public static bool IsPlanFile(string path)
    {
        try { return JsonNode.Parse(File.ReadAllText(path)) is JsonObject json && json.ContainsKey("cells"); }
        catch (Exception e) when (e is JsonException or IOException) { return false; }
    }

    /// <summary>A plan.json; any problem with it is one line naming the file.</summary>
    public static Plan Read(string path)
    {
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new UserError($"{path} is empty");
            string kind = json["kind"]?.GetValue<string>()
                ?? throw new UserError($"{path} is a plan.json from before 2026-12-03, which lists the cells only: rerun the command that wrote it, with the same --out, to rewrite it");
            if (!Kinds.Contains(kind)) throw new ConfigError("kind", $"must be one of {string.Join(", ", Kinds)}, got '{kind}'");
            var cells = (json["cells"] as JsonArray ?? throw new ConfigError("cells", "is missing")).Select((node, i) =>
            {
                var cell = node as JsonObject ?? throw new ConfigError($"cells[{i}]", "is not an object");
                var config = RunConfig.FromJson(cell["config"] as JsonObject ?? throw new ConfigError($"cells[{i}].config", "is missing"));
                return new ExperimentCell(cell["id"]?.GetValue<string>() ?? throw new ConfigError($"cells[{i}].id", "is missing"),
                    cell["group"]?.GetValue<string>() ?? throw new ConfigError($"cells[{i}].group", "is missing"),
                    config, cell["starts_from"]?.GetValue<string>());
            }).ToList();
            var probes = json["probes"] is JsonObject p ? p.Deserialize<ProbeSizes>(Json.File) : null;
            return new Plan(kind, cells, json["extra"] as JsonObject ?? [], probes);
        }
        catch (ConfigError e) { throw new UserError($"{path}: {e.Message}"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new UserError($"{path} is not a plan written by foresight: {e.Message}");
        }
    }
}
