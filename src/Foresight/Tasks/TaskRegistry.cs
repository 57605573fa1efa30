using System.Text.Json.Nodes;

namespace Foresight.Tasks;

/// <summary>Builds a task from its config.json form.</summary>
public static class TaskRegistry
{
    public static IReadOnlyList<string> Names { get; } = ["star", "addition", "planning"];

    public static ITask FromJson(JsonObject json)
    {
        string name = json["name"]?.GetValue<string>() ?? throw new UserError("task has no 'name'");
        return name switch
        {
            "star" => new PathStarTask(Int(json, "degree"), Int(json, "path_length"), Int(json, "nodes")),
            "addition" => new AdditionTask(Int(json, "digits"), json["answer_order"] is { } order ? Order(order.GetValue<string>()) : AnswerOrder.MsbFirst),
            "planning" => new MinimalPlanningTask(Int(json, "chain_length")),
            _ => throw new UserError($"unknown task '{name}' (known: {string.Join(", ", Names)})"),
        };
    }

    private static AnswerOrder Order(string name)
    {
        foreach (var order in Enum.GetValues<AnswerOrder>())
            if (Json.EnumName(order) == name) return order;
        throw new UserError($"--answer-order must be 'msb-first' or 'lsb-first', got '{name}'");
    }

    private static int Int(JsonObject json, string key) =>
        json[key]?.GetValue<int>() ?? throw new UserError($"task has no '{key}'");
}
