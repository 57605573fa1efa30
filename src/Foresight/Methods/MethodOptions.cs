using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Foresight.Methods;

/// <summary>
/// A method's own hyper-parameters: a record of init properties, each marked with <see cref="OptionAttribute"/>,
/// whose defaults are the property initialisers. The method names its record in <see cref="MethodAttribute.Options"/>;
/// flags, config.json, experiment files, validation messages and report labels are all made from it.
/// </summary>
public interface IMethodOptions
{
    /// <summary>Throws a <see cref="ConfigError"/> naming the option (its bare name: "steps") when a value is out of range.</summary>
    void Validate();
}

/// <summary>Declares one option of a method: its one-line help and how it marks a run's label when not at its default.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionAttribute(string help) : Attribute
{
    public string Help { get; } = help;

    /// <summary>
    /// The label mark of a non-default value, "{0}" standing for the value ("{0} heads"; a switch: "shifted");
    /// null for an option that does not set a variant apart (a decoding choice).
    /// </summary>
    public string? Label { get; init; }

    /// <summary>The flag when it is not --&lt;method&gt;-&lt;name&gt;.</summary>
    public string? Flag { get; init; }

    /// <summary>A path, recorded absolute so that a run can be reproduced from another directory.</summary>
    public bool IsPath { get; init; }
}

/// <summary>One declared option of one method.</summary>
public sealed class OptionSpec
{
    private readonly PropertyInfo _property;
    private readonly OptionAttribute _attribute;

    internal OptionSpec(string method, PropertyInfo property, OptionAttribute attribute, object? defaultValue)
    {
        (Method, _property, _attribute, Default) = (method, property, attribute, defaultValue);
        Name = JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);
    }

    public string Method { get; }

    /// <summary>The name in config.json and experiment files: "latent_weight".</summary>
    public string Name { get; }

    /// <summary>The name in error messages: "nextlat.latent_weight".</summary>
    public string Field => $"{Method}.{Name}";

    public string Flag => _attribute.Flag ?? $"--{Method}-{Name.Replace('_', '-')}";
    public string Help => _attribute.Help;
    public bool IsPath => _attribute.IsPath;
    public Type Type => _property.PropertyType;
    public object? Default { get; }

    public object? ValueOf(IMethodOptions options) => _property.GetValue(options);

    /// <summary>How a value is written on the command line and in labels: enums as the files spell them, numbers invariant.</summary>
    public static string Text(object? value) => value switch
    {
        null => "",
        Enum e => JsonNamingPolicy.KebabCaseLower.ConvertName(e.ToString()),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString("g", CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>This option's mark in a run's label, or null at its default or for an option that marks nothing.</summary>
    public string? Mark(IMethodOptions options)
    {
        object? value = ValueOf(options);
        if (_attribute.Label is null || Equals(value, Default)) return null;
        return string.Format(CultureInfo.InvariantCulture, _attribute.Label, Text(value));
    }

    /// <summary>A value from text (a flag's argument), or a <see cref="ConfigError"/> naming the field.</summary>
    public object? Parse(string text)
    {
        var type = Nullable.GetUnderlyingType(Type) ?? Type;
        if (type == typeof(string)) return _attribute.IsPath ? Path.GetFullPath(text) : text;
        if (type.IsEnum)
        {
            foreach (var choice in Enum.GetValues(type))
                if (Text(choice) == text) return choice;
            var names = Enum.GetValues(type).Cast<object>().Select(c => $"'{Text(c)}'").ToList();
            throw new ConfigError(Field, $"must be {(names.Count == 1 ? names[0] : $"{string.Join(", ", names[..^1])} or {names[^1]}")}, got '{text}'");
        }
        if (type == typeof(bool) && bool.TryParse(text, out bool flag)) return flag;
        if (type == typeof(int) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int integer)) return integer;
        if (type == typeof(double) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number)) return number;
        throw new ConfigError(Field, $"must be {(type == typeof(bool) ? "true or false" : type == typeof(int) ? "a whole number" : "a number")}, got '{text}'");
    }

    /// <summary>The option's value in <paramref name="options"/> as config.json writes it.</summary>
    internal JsonNode? ToJson(IMethodOptions options) => JsonSerializer.SerializeToNode(ValueOf(options), Type, Json.File);
}

/// <summary>Reads, writes, edits and labels a method's options from its declarations.</summary>
public static class MethodOptionSet
{
    /// <summary>The options declared by an options record type, in declaration order.</summary>
    internal static IReadOnlyList<OptionSpec> Declared(string method, Type optionsType)
    {
        var defaults = (IMethodOptions)Activator.CreateInstance(optionsType)!;
        return [.. optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Attribute: p.GetCustomAttribute<OptionAttribute>()))
            .Where(x => x.Attribute is not null)
            .OrderBy(x => x.Property.MetadataToken)
            .Select(x => new OptionSpec(method, x.Property, x.Attribute!, x.Property.GetValue(defaults)))];
    }

    /// <summary>The options as config.json records them: every declared option, by name.</summary>
    public static JsonObject ToJson(string method, IMethodOptions options) =>
        new(MethodRegistry.Options(method).Select(o => KeyValuePair.Create(o.Name, o.ToJson(options))));

    /// <summary>
    /// A method's options from a JSON object that names some of them (the rest keep their defaults), validated.
    /// An unknown name or a value of the wrong type is a <see cref="ConfigError"/>; null for a method without options.
    /// </summary>
    public static IMethodOptions? FromJson(string method, JsonObject? json)
    {
        var declared = MethodRegistry.Options(method);
        if (MethodRegistry.OptionsType(method) is not { } type)
        {
            if (json is { Count: > 0 }) throw new ConfigError($"{method}.{json.First().Key}", $"is not an option: {method} has none");
            return null;
        }
        var merged = ToJson(method, (IMethodOptions)Activator.CreateInstance(type)!);
        foreach (var (key, value) in json ?? [])
        {
            if (declared.All(o => o.Name != key))
                throw new ConfigError($"{method}.{key}", $"is not an option of {method} (known: {string.Join(", ", declared.Select(o => o.Name))})");
            merged[key] = value?.DeepClone();
        }
        IMethodOptions options;
        try { options = (IMethodOptions)merged.Deserialize(type, Json.File)!; }
        catch (JsonException e)
        {
            string name = e.Path?.TrimStart('$', '.') ?? "";
            throw new ConfigError($"{method}.{name}", $"has a value of the wrong type: {e.Message.Split(". ")[0]}");
        }
        return Validated(method, options);
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

    /// <summary><paramref name="options"/> with one option set to <paramref name="value"/> (a value of the option's type).</summary>
    public static IMethodOptions With(string method, IMethodOptions options, OptionSpec option, object? value)
    {
        var json = ToJson(method, options);
        json[option.Name] = JsonSerializer.SerializeToNode(value, option.Type, Json.File);
        return (IMethodOptions)json.Deserialize(options.GetType(), Json.File)!;
    }

    /// <summary>Validates, naming the field "&lt;method&gt;.&lt;option&gt;" in any error.</summary>
    public static IMethodOptions Validated(string method, IMethodOptions options)
    {
        try { options.Validate(); }
        catch (ConfigError e) when (!e.Field.Contains('.'))
        {
            throw new ConfigError($"{method}.{e.Field}", e.Message[(e.Field.Length + 1)..]);
        }
        return options;
    }

    /// <summary>The marks of every option not at its default that sets a variant apart ("3 heads").</summary>
    public static IEnumerable<string> Marks(string method, IMethodOptions? options) =>
        options is null ? [] : MethodRegistry.Options(method).Select(o => o.Mark(options)).OfType<string>();

    /// <summary>"attention-causal-prefix-neighbours": every option not at its default, for directory names that tell variants apart.</summary>
    public static string Slug(string method, IMethodOptions? options) => options is null ? "" : string.Join("-",
        from o in MethodRegistry.Options(method)
        let value = o.ValueOf(options)
        where !o.IsPath && !Equals(value, o.Default)
        select value is true ? o.Name.Replace('_', '-') : $"{o.Name.Replace('_', '-')}-{SlugText(value)}");

    private static string SlugText(object? value) =>
        new(OptionSpec.Text(value).Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' ? c : '_').ToArray());
}

/// <summary>Range checks shared by the options records.</summary>
public static class OptionChecks
{
    public static void NonNegative(double value, string name, string note = "")
    {
        if (!(value >= 0) || double.IsInfinity(value)) throw new ConfigError(name, $"must be a finite number >= 0{note}, got {OptionSpec.Text(value)}");
    }

    public static void Positive(double value, string name)
    {
        if (!(value > 0) || double.IsInfinity(value)) throw new ConfigError(name, $"must be a positive number, got {OptionSpec.Text(value)}");
    }
}
