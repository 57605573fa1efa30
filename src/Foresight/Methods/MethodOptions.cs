using System.Text.Json.Nodes;

namespace Foresight.Methods;

/// <summary>
/// A method's own hyper-parameters: an <see cref="IOptions"/> record the method names in <see cref="MethodAttribute.Options"/>;
/// its flags are --&lt;method&gt;-&lt;option&gt; and its fields in messages &lt;method&gt;.&lt;option&gt;.
/// </summary>
public interface IMethodOptions : IOptions;

/// <summary>Reads, writes, edits and labels a method's options from its declarations (the method's <see cref="OptionSet"/>).</summary>
public static class MethodOptionSet
{
    /// <summary>The options as config.json records them: every declared option, by name.</summary>
    public static JsonObject ToJson(string method, IMethodOptions options) => MethodRegistry.OptionSet(method)!.ToJson(options);

    /// <summary>
    /// A method's options from a JSON object that names some of them (the rest keep their defaults), validated.
    /// An unknown name or a value of the wrong type is a <see cref="ConfigError"/>; null for a method without options.
    /// </summary>
    public static IMethodOptions? FromJson(string method, JsonObject? json)
    {
        if (MethodRegistry.OptionSet(method) is not { } set)
        {
            if (json is { Count: > 0 }) throw new ConfigError($"{method}.{json.First().Key}", $"is not an option: {method} has none");
            return null;
        }
        return set.Validated((IMethodOptions)set.FromJson(json));
    }

    /// <summary>
    /// Options written before each method owned its own: one flat object with every method's options,
    /// named "&lt;method&gt;_&lt;option&gt;". Only the method's own are kept.
    /// </summary>
    public static IMethodOptions? FromLegacyJson(string method, JsonObject? flat)
    {
        var own = new JsonObject();
        foreach (var option in MethodRegistry.Options(method))
            if (flat?[$"{method}_{option.Name}"] is { } value) own[option.Name] = value.DeepClone();
        return FromJson(method, own);
    }

    /// <summary>Whether an options object is of that older, flat form.</summary>
    public static bool IsLegacy(JsonObject? options) =>
        options is not null && MethodRegistry.AllOptions().Any(o => options.ContainsKey($"{o.Owner}_{o.Name}"));

    /// <summary><paramref name="options"/> with one option set to <paramref name="value"/> (a value of the option's type).</summary>
    public static IMethodOptions With(string method, IMethodOptions options, OptionSpec option, object? value) =>
        (IMethodOptions)MethodRegistry.OptionSet(method)!.With(options, option, value);

    /// <summary>Validates, naming the field "&lt;method&gt;.&lt;option&gt;" in any error.</summary>
    public static IMethodOptions Validated(string method, IMethodOptions options) => MethodRegistry.OptionSet(method)!.Validated(options);

    /// <summary>The marks of every option not at its default that sets a variant apart ("3 heads").</summary>
    public static IEnumerable<string> Marks(string method, IMethodOptions? options) =>
        options is null ? [] : MethodRegistry.OptionSet(method)!.Marks(options);

    /// <summary>"attention-causal-prefix-neighbours": every option not at its default, for directory names that tell variants apart.</summary>
    public static string Slug(string method, IMethodOptions? options) => options is null ? "" : MethodRegistry.OptionSet(method)!.Slug(options);
}
