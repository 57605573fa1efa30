using System.Text.Json;
using System.Text.Json.Nodes;

namespace Foresight;

/// <summary>One JSON style for every file Foresight writes: snake_case names, indented files, one-line JSONL records.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions File = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public static readonly JsonSerializerOptions Line = new(File) { WriteIndented = false };

    /// <summary>An enum value as the files spell it: LowConfidence -> low-confidence.</summary>
    public static string EnumName<T>(T value) where T : struct, Enum => JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());

    public static JsonObject ToObject<T>(T value) => JsonSerializer.SerializeToNode(value, File)!.AsObject();

    /// <summary>Shallow merge: the properties of each object in turn, later ones winning.</summary>
    public static JsonObject Merge(params JsonObject[] objects)
    {
        var merged = new JsonObject();
        foreach (var o in objects)
            foreach (var (key, value) in o) merged[key] = value?.DeepClone();
        return merged;
    }

    /// <summary>Writes to a temporary file and renames it, so a reader never sees half a file (the temporary name is the process's own: array tasks share a root).</summary>
    public static void WriteAtomic(string path, JsonNode value)
    {
        string temp = $"{path}.{Environment.ProcessId}.tmp";
        System.IO.File.WriteAllText(temp, value.ToJsonString(File) + "\n");
        System.IO.File.Move(temp, path, overwrite: true);
    }
}
