using System.Text.Json.Nodes;

namespace Foresight.Tasks;

/// <summary>Builds a task from its config.json form.</summary>
public static class TaskRegistry
{
    public static IReadOnlyList<string> Names { get; } = ["star"];

    public static ITask FromJson(JsonObject json)
    {
        string name = json["name"]?.GetValue<string>() ?? throw new UserError("task has no 'name'");
        return name switch
        {
            "star" => new PathStarTask(Int(json, "degree"), Int(json, "path_length"), Int(json, "nodes")),
            _ => throw new UserError($"unknown task '{name}' (known: {string.Join(", ", Names)})"),
        };
    }

    private static int Int(JsonObject json, string key) =>
        json[key]?.GetValue<int>() ?? throw new UserError($"task has no '{key}'");
}
