using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Foresight;

/// <summary>
/// A record of declared options (a method's hyper-parameters, a task's sizes): init properties, each marked with
/// <see cref="OptionAttribute"/>, whose defaults are the property initialisers. Flags, config.json, experiment files,
/// validation messages and labels are all made from the declarations by <see cref="OptionSet"/>.
/// </summary>
public interface IOptions
{
    /// <summary>Throws a <see cref="ConfigError"/> naming the option (its bare name: "steps") when a value is out of range.</summary>
    void Validate();
}

/// <summary>Declares one option: its one-line help and how it marks a label when not at its default.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionAttribute(string help) : Attribute
{
    public string Help { get; } = help;

    /// <summary>
    /// The label mark of a non-default value, "{0}" standing for the value ("{0} heads"; a switch: "shifted");
    /// null for an option that does not set a variant apart (a decoding choice).
    /// </summary>
    public string? Label { get; init; }

    /// <summary>The flag when it is not the owner's rule (--&lt;method&gt;-&lt;name&gt; for a method, --&lt;name&gt; for a task).</summary>
    public string? Flag { get; init; }

    /// <summary>A path, recorded absolute so that a run can be reproduced from another directory.</summary>
    public bool IsPath { get; init; }

    /// <summary>A choice of how a trained model decodes, not of how it trains: `eval` may override it for a saved run.</summary>
    public bool DecodeTime { get; init; }
}

/// <summary>One declared option of one owner (a method, a task).</summary>
public sealed class OptionSpec
{
    private readonly PropertyInfo _property;
    private readonly OptionAttribute _attribute;
    private readonly string _scope;
    private readonly string _flagPrefix;

    internal OptionSpec(string owner, string scope, string flagPrefix, PropertyInfo property, OptionAttribute attribute, object? defaultValue)
    {
        (Owner, _scope, _flagPrefix, _property, _attribute, Default) = (owner, scope, flagPrefix, property, attribute, defaultValue);
        Name = JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);
    }

    /// <summary>The method or task that declares it: "mtp", "star".</summary>
    public string Owner { get; }

    /// <summary>The name in config.json and experiment files: "latent_weight".</summary>
    public string Name { get; }

    /// <summary>The name in error messages: "nextlat.latent_weight", "task.degree".</summary>
    public string Field => $"{_scope}.{Name}";

    public string Flag => _attribute.Flag ?? $"--{_flagPrefix}{Name.Replace('_', '-')}";
    public string Help => _attribute.Help;
    public bool IsPath => _attribute.IsPath;
    public bool DecodeTime => _attribute.DecodeTime;
    public Type Type => _property.PropertyType;
    public object? Default { get; }

    /// <summary>The type's underlying value type (int for an int?).</summary>
    public Type ValueType => Nullable.GetUnderlyingType(Type) ?? Type;

    public object? ValueOf(IOptions options) => _property.GetValue(options);

    /// <summary>How a value is written on the command line and in labels: enums as the files spell them, numbers invariant.</summary>
    public static string Text(object? value) => value switch
    {
        null => "",
        Enum e => JsonNamingPolicy.KebabCaseLower.ConvertName(e.ToString()),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString("g", CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>What a value of this option must be, for messages: "'seed' or 'null'", "a whole number", "a number", "true or false".</summary>
    public string Expected
    {
        get
        {
            var type = ValueType;
            if (!type.IsEnum)
                return type == typeof(bool) ? "true or false" : type == typeof(int) ? "a whole number" : type == typeof(double) ? "a number" : "text";
            var names = Enum.GetValues(type).Cast<object>().Select(c => $"'{Text(c)}'").ToList();
            return names.Count == 1 ? names[0] : $"{string.Join(", ", names[..^1])} or {names[^1]}";
        }
    }

    /// <summary>This option's mark in a label, or null at its default or for an option that marks nothing.</summary>
    public string? Mark(IOptions options) => Equals(ValueOf(options), Default) ? null : MarkOf(ValueOf(options));

    /// <summary>The mark of <paramref name="value"/> ("3 heads"), or null for an option that marks nothing.</summary>
    public string? MarkOf(object? value) => _attribute.Label is null ? null : string.Format(CultureInfo.InvariantCulture, _attribute.Label, Text(value));

    /// <summary>A value from text (a flag's argument), or a <see cref="ConfigError"/> naming the field.</summary>
    public object? Parse(string text)
    {
        var type = ValueType;
        if (type == typeof(string)) return _attribute.IsPath ? Path.GetFullPath(text) : text;
        if (type.IsEnum)
        {
            foreach (var choice in Enum.GetValues(type))
                if (Text(choice) == text) return choice;
        }
        if (type == typeof(bool) && bool.TryParse(text, out bool flag)) return flag;
        if (type == typeof(int) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int integer)) return integer;
        if (type == typeof(double) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number)) return number;
        throw new ConfigError(Field, $"must be {Expected}, got '{text}'");
    }

    /// <summary>The option's value in <paramref name="options"/> as config.json writes it.</summary>
    internal JsonNode? ToJson(IOptions options) => JsonSerializer.SerializeToNode(ValueOf(options), Type, Json.File);
}

/// <summary>
/// Reads, writes, edits and labels one options record type from its declarations. <c>scope</c> is how error messages
/// name its fields ("mtp" for mtp.heads, "task" for task.degree) and <c>flagPrefix</c> what its flags start with after
/// the dashes ("mtp-" for --mtp-heads, "" for --degree).
/// </summary>
public sealed class OptionSet
{
    public OptionSet(string owner, Type type, string scope, string flagPrefix)
    {
        if (!typeof(IOptions).IsAssignableFrom(type) || type.GetConstructor(Type.EmptyTypes) is null)
            throw new ArgumentException($"{type.Name} is not an options record with a parameterless constructor", nameof(type));
        (Owner, Type, Scope) = (owner, type, scope);
        var defaults = Defaults();
        // A record's own options first, then those it inherits (an open-ended task's sizes, then the prefix they share).
        Specs = [.. type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Attribute: p.GetCustomAttribute<OptionAttribute>()))
            .Where(x => x.Attribute is not null)
            .OrderBy(x => Depth(x.Property.DeclaringType!)).ThenBy(x => x.Property.MetadataToken)
            .Select(x => new OptionSpec(owner, scope, flagPrefix, x.Property, x.Attribute!, x.Property.GetValue(defaults)))];

        int Depth(Type declaring)
        {
            int depth = 0;
            for (var t = type; t is not null && t != declaring; t = t.BaseType) depth++;
            return depth;
        }
    }

    public string Owner { get; }
    public Type Type { get; }
    public string Scope { get; }

    /// <summary>The declared options, own before inherited, each in its file's order.</summary>
    public IReadOnlyList<OptionSpec> Specs { get; }

    public IOptions Defaults() => (IOptions)Activator.CreateInstance(Type)!;

    /// <summary>Every declared option, by name, as config.json records them.</summary>
    public JsonObject ToJson(IOptions options) => new(Specs.Select(o => KeyValuePair.Create(o.Name, o.ToJson(options))));

    /// <summary>
    /// Options from a JSON object that names some of them (the rest keep their defaults), not yet validated. An unknown
    /// name or a value of the wrong type is a <see cref="ConfigError"/> naming the field.
    /// </summary>
    public IOptions FromJson(JsonObject? json)
    {
        var merged = ToJson(Defaults());
        foreach (var (key, value) in json ?? [])
        {
            if (Specs.All(o => o.Name != key))
                throw new ConfigError($"{Scope}.{key}", $"is not an option of {Owner} (known: {string.Join(", ", Specs.Select(o => o.Name))})");
            merged[key] = value?.DeepClone();
        }
        try { return (IOptions)merged.Deserialize(Type, Json.File)!; }
        catch (JsonException e)
        {
            string name = e.Path?.TrimStart('$', '.') ?? "";
            var spec = Specs.FirstOrDefault(o => o.Name == name);
            string expected = spec is null ? e.Message.Split(". ")[0] : $"must be {spec.Expected}";
            throw new ConfigError($"{Scope}.{name}", $"has a value of the wrong type: {expected}, got {merged[name]?.ToJsonString() ?? "null"}");
        }
    }

    /// <summary><paramref name="options"/> with one option set to <paramref name="value"/> (a value of the option's type).</summary>
    public IOptions With(IOptions options, OptionSpec option, object? value)
    {
        var json = ToJson(options);
        json[option.Name] = JsonSerializer.SerializeToNode(value, option.Type, Json.File);
        return (IOptions)json.Deserialize(options.GetType(), Json.File)!;
    }

    /// <summary>Validates, naming the field "&lt;scope&gt;.&lt;option&gt;" in any error.</summary>
    public T Validated<T>(T options) where T : IOptions
    {
        try { options.Validate(); }
        catch (ConfigError e) when (!e.Field.Contains('.'))
        {
            throw new ConfigError($"{Scope}.{e.Field}", e.Message[(e.Field.Length + 1)..]);
        }
        return options;
    }

    /// <summary>The marks of every option not at its default that sets a variant apart ("3 heads").</summary>
    public IEnumerable<string> Marks(IOptions options) => Specs.Select(o => o.Mark(options)).OfType<string>();

    /// <summary>"attention-causal-prefix-neighbours": every option not at its default, for directory names that tell variants apart.</summary>
    public string Slug(IOptions options) => string.Join("-",
        from o in Specs
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

    public static void InRange(int value, int least, int most, string name, string note = "")
    {
        if (value < least || value > most) throw new ConfigError(name, $"must be in {least}..{most}{note}, got {value}");
    }
}
