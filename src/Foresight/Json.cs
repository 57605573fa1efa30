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

    /// <summary>Writes the file whole or not at all (<see cref="AtomicFile"/>): a reader never sees half a file.</summary>
    public static void WriteAtomic(string path, JsonNode value) => AtomicFile.WriteText(path, value.ToJsonString(File) + "\n");
}
