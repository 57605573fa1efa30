using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json.Nodes;

namespace Foresight.Tasks;

/// <summary>
/// A task's own options: an <see cref="IOptions"/> record the task names in <see cref="TaskAttribute.Options"/>; its
/// flags are --&lt;option&gt; (several tasks may share one: --nodes) and its fields in messages task.&lt;option&gt;.
/// </summary>
public interface ITaskOptions : IOptions
{
    /// <summary>The options with every default that follows another option filled in (an open-ended task's temperature follows its prefix).</summary>
    ITaskOptions Resolved() => this;
}

/// <summary>
/// Marks a class as a task selectable by <see cref="Name"/> with --task. The class has a public constructor that takes
/// its <see cref="Options"/> record (or a base of it: circle and line share one class).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class TaskAttribute(string name, string summary) : Attribute
{
    public string Name { get; } = name;

    /// <summary>What the task is, in a few words, with its source: for --task's help.</summary>
    public string Summary { get; } = summary;

    /// <summary>The task's options record (an <see cref="ITaskOptions"/> with a parameterless constructor).</summary>
    public required Type Options { get; init; }

    /// <summary>The task --task means when it is not given (one task has it).</summary>
    public bool IsDefault { get; init; }
}

/// <summary>Finds tasks by their <see cref="TaskAttribute"/>, so a new task is one new file.</summary>
public static class TaskRegistry
{
    private sealed record Entry(Type Type, TaskAttribute Attribute, OptionSet Options);

    private static readonly Dictionary<string, Entry> Tasks =
        typeof(TaskRegistry).Assembly.GetTypes()
            .SelectMany(t => t.GetCustomAttributes<TaskAttribute>().Select(a => new Entry(t, a, new OptionSet(a.Name, a.Options, scope: "task", flagPrefix: ""))))
            .ToDictionary(e => e.Attribute.Name);

    private static readonly ConcurrentDictionary<TaskSpec, Lazy<ITask>> Built = new();

    public static IReadOnlyList<string> Names { get; } = Tasks.Keys.Order().ToList();

    /// <summary>The task a command runs when none is named: the one whose attribute says <see cref="TaskAttribute.IsDefault"/>.</summary>
    public static string Default { get; } = Tasks.Values.Single(e => e.Attribute.IsDefault).Attribute.Name;

    public static string Summary(string name)
    {
        Validate(name);
        return Tasks[name].Attribute.Summary;
    }

    /// <summary>A task's declared options, as one set.</summary>
    public static OptionSet OptionSet(string name)
    {
        Validate(name);
        return Tasks[name].Options;
    }

    /// <summary>The options a task declares, its own before those it shares with related tasks.</summary>
    public static IReadOnlyList<OptionSpec> Options(string name) => OptionSet(name).Specs;

    /// <summary>Every declared option of every task (a flag several tasks share appears once per task).</summary>
    public static IEnumerable<OptionSpec> AllOptions() => Names.SelectMany(Options);

    public static void Validate(string name)
    {
        if (!Tasks.ContainsKey(name))
            throw new ConfigError("task.name", $"must be one of {string.Join(", ", Names)}, got '{name}'");
    }

    /// <summary>
    /// <paramref name="options"/> validated by their record's own rules, an error naming the field "task.&lt;option&gt;":
    /// every task's constructor starts here, so a task built by hand is checked as one read from a file.
    /// </summary>
    public static T Validated<T>(T options) where T : ITaskOptions =>
        Tasks.Values.First(e => e.Attribute.Options == options.GetType()).Options.Validated(options);

    /// <summary>The task a spec describes; built once per distinct spec and shared (tasks are immutable).</summary>
    public static ITask Build(TaskSpec spec) =>
        Built.GetOrAdd(spec, s => new Lazy<ITask>(() => Create(s))).Value;

    private static ITask Create(TaskSpec spec)
    {
        try { return (ITask)Activator.CreateInstance(Tasks[spec.Name].Type, spec.Options)!; }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}

/// <summary>
/// Which task a run is on: its name and its options, as config.json's "task" object holds them
/// (<c>{"name": "star", "degree": 2, "path_length": 5, "nodes": 50}</c>). Valid by construction: the options are
/// resolved and checked when it is made.
/// </summary>
public sealed record TaskSpec
{
    public TaskSpec(string name, ITaskOptions? options = null)
    {
        var set = TaskRegistry.OptionSet(name);
        options ??= (ITaskOptions)set.Defaults();
        if (options.GetType() != set.Type)
            throw new ArgumentException($"{name} takes {set.Type.Name}, not {options.GetType().Name}", nameof(options));
        Name = name;
        Options = set.Validated(options.Resolved());
    }

    public string Name { get; }
    public ITaskOptions Options { get; }

    /// <summary>The task itself (built once per distinct spec).</summary>
    public ITask Build() => TaskRegistry.Build(this);

    /// <summary>Its name and every option it declares, as config.json writes them.</summary>
    public JsonObject ToJson() => Json.Merge(new JsonObject { ["name"] = Name }, TaskRegistry.OptionSet(Name).ToJson(Options));

    /// <summary>
    /// A spec from its JSON object; options it does not name take the task's defaults (older files lack options added
    /// since, such as addition's answer order). An unknown task or option, or a value out of range, is a
    /// <see cref="ConfigError"/> naming the field.
    /// </summary>
    public static TaskSpec FromJson(JsonObject json)
    {
        if (json["name"] is not JsonValue nameValue || !nameValue.TryGetValue(out string? name))
            throw new ConfigError("task.name", $"is missing (one of {string.Join(", ", TaskRegistry.Names)})");
        var options = new JsonObject(json.Where(p => p.Key != "name").Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
        return new TaskSpec(name, (ITaskOptions)TaskRegistry.OptionSet(name).FromJson(options));
    }

    /// <summary>
    /// What tables, reports and experiment directories call the task: its description, marked with each option that sets
    /// a variant apart and is not at the value it takes when left unset ("sibling discovery (5 parents x 100 children,
    /// null prefix) [T = 0.5]"). Options the description already shows declare no label.
    /// </summary>
    public string Label => Marks.Count == 0 ? Build().Description : $"{Build().Description} [{string.Join(", ", Marks)}]";

    private IReadOnlyList<string> Marks
    {
        get
        {
            var set = TaskRegistry.OptionSet(Name);
            return [.. from spec in set.Specs
                       let value = spec.ValueOf(Options)
                       let unset = spec.ValueOf(((ITaskOptions)set.With(Options, spec, spec.Default)).Resolved())
                       where !Equals(value, unset)
                       select spec.MarkOf(value) into mark
                       where mark is not null
                       select mark];
        }
    }

    public override string ToString() => ToJson().ToJsonString();
}
