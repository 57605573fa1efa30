using System.Text.Json.Nodes;

namespace Foresight.Tasks;

/// <summary>Builds a task from its config.json form.</summary>
public static class TaskRegistry
{
    public static IReadOnlyList<string> Names { get; } = ["star", "addition", "planning", "sibling", "triangle", "circle", "line"];

    public static ITask FromJson(JsonObject json)
    {
        string name = json["name"]?.GetValue<string>() ?? throw new UserError("task has no 'name'");
        return name switch
        {
            "star" => new PathStarTask(Int(json, "degree"), Int(json, "path_length"), Int(json, "nodes")),
            "addition" => new AdditionTask(Int(json, "digits"), json["answer_order"] is { } order ? Order(order.GetValue<string>()) : AnswerOrder.MsbFirst),
            "planning" => new MinimalPlanningTask(Int(json, "chain_length")),
            "sibling" or "triangle" or "circle" or "line" => OpenEnded(name, json),
            _ => throw new UserError($"unknown task '{name}' (known: {string.Join(", ", Names)})"),
        };
    }

    private static OpenEndedTask OpenEnded(string name, JsonObject json)
    {
        var (prefix, seedLength, temperature) = OpenEndedTask.SharedFields(json);
        int graphSeed = json["graph_seed"]?.GetValue<int>() ?? 0;
        return name switch
        {
            "sibling" => new SiblingDiscoveryTask(IntOr(json, "parents", SiblingDiscoveryTask.DefaultParents), IntOr(json, "children", SiblingDiscoveryTask.DefaultChildren),
                graphSeed, prefix, seedLength, temperature),
            "triangle" => new TriangleDiscoveryTask(IntOr(json, "nodes", TriangleDiscoveryTask.DefaultNodes),
                json["edge_probability"]?.GetValue<double>() ?? TriangleDiscoveryTask.DefaultEdgeProbability,
                json["held_out"]?.GetValue<double>() ?? TriangleDiscoveryTask.DefaultHeldOut, graphSeed, prefix, seedLength, temperature),
            _ => new ConstructionTask(name == "circle" ? Shape.Circle : Shape.Line, IntOr(json, "labels", ConstructionTask.DefaultLabels),
                IntOr(json, "size", ConstructionTask.DefaultSize), prefix, seedLength, temperature),
        };
    }

    private static int IntOr(JsonObject json, string key, int fallback) => json[key]?.GetValue<int>() ?? fallback;

    private static AnswerOrder Order(string name)
    {
        foreach (var order in Enum.GetValues<AnswerOrder>())
            if (Json.EnumName(order) == name) return order;
        throw new UserError($"--answer-order must be 'msb-first' or 'lsb-first', got '{name}'");
    }

    private static int Int(JsonObject json, string key) =>
        json[key]?.GetValue<int>() ?? throw new UserError($"task has no '{key}'");
}
