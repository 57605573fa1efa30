using System.Reflection;
using Foresight.Models;
using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Methods;

/// <summary>
/// Everything a method needs to build its model and loss: the task's shape, the model size, which target positions
/// the loss covers, the method's own hyper-parameters and, for a method that fine-tunes a saved run, that run.
/// </summary>
public sealed record MethodContext(ITask Task, ModelSize Model, LossPositions LossPositions = LossPositions.All, IMethodOptions? Options = null,
    StartingRun? Start = null)
{
    /// <summary>The method's own options (their defaults when none were given), checked.</summary>
    public T OptionsOf<T>() where T : class, IMethodOptions, new()
    {
        var options = Options as T ?? (Options is null ? new T() : throw new ArgumentException($"options of type {Options.GetType().Name} given to a method that reads {typeof(T).Name}"));
        options.Validate();
        return options;
    }

    /// <summary>For a method whose loss is not one cross-entropy per target position: refuses a narrowed --loss-positions.</summary>
    public void RequireAllLossPositions(string why)
    {
        if (LossPositions != LossPositions.All)
            throw new UserError($"{why}; --loss-positions applies to {MethodRegistry.Listed(MethodRegistry.Names.Where(MethodRegistry.HasPerPositionLoss).ToList(), "and")}");
    }
}

/// <summary>The options of a method that starts from a saved run's trained model (grpo): which run.</summary>
public interface IStartsFromRun
{
    /// <summary>The run's directory; null: none given.</summary>
    string? Init { get; }
}

/// <summary>
/// The saved run a method starts from (<see cref="IStartsFromRun"/>), found finished and on the same task and model:
/// its method, and its trained model loaded afresh at each call (a fine-tuning method may keep a frozen copy).
/// </summary>
public sealed record StartingRun(string Path, string Method, Func<ITrainingMethod> Load);

/// <summary>
/// Target positions the training loss covers. <see cref="FirstDecision"/> is the Indecipherable-token
/// control: is the hard token learnable when it is the only thing trained on?
/// </summary>
public enum LossPositions
{
    All,
    FirstDecision,
}

/// <summary>
/// A method that writes the answer left to right in task order, so a probe can force the first
/// tokens (a wrong first decision, say) and watch how it goes on.
/// </summary>
public interface ILeftToRightDecoder
{
    /// <summary>Greedy continuation of <paramref name="forcedTarget"/> (B, k): (B, T), task order, its first k tokens the forced ones.</summary>
    Tensor Continue(Tensor prefix, Tensor forcedTarget);
}

/// <summary>
/// A method that writes the answer one token at a time in a fixed order (task order, or reversed), so a
/// search can sample it, rank its alternatives and steer it step by step.
/// </summary>
public interface IStepwiseDecoder
{
    /// <summary>The task-order target positions in the order the method writes them.</summary>
    IReadOnlyList<int> WritingOrder { get; }

    /// <summary>Null when <see cref="WritingOrder"/> holds for every example; otherwise why it does not (search and RL need it to).</summary>
    string? VariableOrder => null;

    /// <summary>Prefixes (B, P) and the tokens written so far (B, k), in writing order: (B, V) logits of the next one.</summary>
    Tensor NextTokenLogits(Tensor prefix, Tensor written);

    /// <summary>
    /// Prefixes (B, P) and complete answers (B, T) in writing order: (B, T, V), each token's logits given the
    /// ones before it. By default one call per token; a causal model does it in one forward pass.
    /// </summary>
    Tensor WrittenLogits(Tensor prefix, Tensor written) =>
        stack([.. Enumerable.Range(0, (int)written.shape[1]).Select(k => NextTokenLogits(prefix, written.narrow(1, 0, k)))], 1);
}

/// <summary>A method with numbers of its own for each training step (grpo: the mean reward), logged to TensorBoard beside the loss.</summary>
public interface IStepStatistics
{
    /// <summary>Name and value of each number, for the batch the last <see cref="ITrainingMethod.Loss"/> call saw.</summary>
    IReadOnlyDictionary<string, double> LastStep { get; }
}

/// <summary>A method that fine-tunes another one's model (grpo): probes look at that model, as its own method reads it.</summary>
public interface IFineTuning
{
    ITrainingMethod Policy { get; }

    /// <summary>The model a method trains as its own method reads it: the policy of a fine-tuning run, otherwise the method itself.</summary>
    static ITrainingMethod Underlying(ITrainingMethod method) => (method as IFineTuning)?.Policy ?? method;
}

/// <summary>A method whose model exposes its residual stream, for linear probes of what it represents.</summary>
public interface IPrefixStates
{
    /// <summary>
    /// The hidden state at the last prefix position (the moment before any answer token is written)
    /// after the embeddings and after every block: (layers + 1, B, C).
    /// </summary>
    Tensor PrefixStates(Tensor prefix);
}

/// <summary>
/// A training objective with its model. The trainer only calls <see cref="Loss"/>; the evaluator
/// only calls <see cref="Decode"/> and <see cref="TeacherForced"/>. Both work in task order, so a
/// method that reorders or masks targets hides that inside its own file.
/// </summary>
public interface ITrainingMethod : IDisposable
{
    /// <summary>Every trainable parameter and buffer: what the optimizer updates and the checkpoint holds.</summary>
    nn.Module Model { get; }

    /// <summary>Tokens the model processes per training example (for tokens/s).</summary>
    int TokensPerExample { get; }

    /// <summary>Scalar training loss of one batch.</summary>
    Tensor Loss(Batch batch);

    /// <summary>Greedy answer for each prefix (B, P): (B, T) target tokens in task order.</summary>
    Tensor Decode(Tensor prefix);

    /// <summary>Argmax prediction at each target position given the training-time inputs: (B, T), task order.</summary>
    Tensor TeacherForced(Batch batch);

    /// <summary>
    /// Answers for each prefix (B, P) drawn at softmax temperature <paramref name="temperature"/> with the randomness of
    /// <paramref name="generator"/>: (B, T), task order; temperature 0 is <see cref="Decode"/>. Open-ended tasks are scored on these.
    /// </summary>
    Tensor Sample(Tensor prefix, double temperature, Generator generator) =>
        temperature == 0 ? Decode(prefix) : throw new UserError($"{GetType().Name} cannot draw answers at a temperature; use task.temperature 0 (greedy)");

    /// <summary>The method's options as it runs them (diffusion's step count resolved), recorded in summary.json; null when it has none.</summary>
    IMethodOptions? ResolvedOptions { get; }
}

/// <summary>Marks a class as a training method selectable by <see cref="Name"/> with --method.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class MethodAttribute(string name, string summary) : Attribute
{
    public string Name { get; } = name;
    public string Summary { get; } = summary;

    /// <summary>Examples per optimizer step when none is asked for; 0: the shared default.</summary>
    public int BatchSize { get; set; }

    /// <summary>Peak learning rate when none is asked for; 0: the shared default.</summary>
    public double LearningRate { get; set; }

    /// <summary>The method's options record (an <see cref="IMethodOptions"/> with a parameterless constructor); null: it has none.</summary>
    public Type? Options { get; set; }

    /// <summary>Its loss is one cross-entropy per target position, so --loss-positions may narrow it to some of them.</summary>
    public bool PerPositionLoss { get; set; }
}

/// <summary>Finds methods by their <see cref="MethodAttribute"/>, so a new method is one new file.</summary>
public static class MethodRegistry
{
    private static readonly Dictionary<string, (Type Type, MethodAttribute Attribute, OptionSet? Options)> Methods =
        typeof(MethodRegistry).Assembly.GetTypes()
            .Select(t => (Type: t, Attribute: t.GetCustomAttribute<MethodAttribute>()))
            .Where(x => x.Attribute is not null)
            .ToDictionary(x => x.Attribute!.Name, x => (x.Type, x.Attribute!,
                x.Attribute!.Options is { } options ? new OptionSet(x.Attribute.Name, options, scope: x.Attribute.Name, flagPrefix: $"{x.Attribute.Name}-") : null));

    public static IReadOnlyList<string> Names { get; } = Methods.Keys.Order().ToList();

    /// <summary>The options a method declares, in its file's order (none for most methods).</summary>
    public static IReadOnlyList<OptionSpec> Options(string name) => OptionSet(name)?.Specs ?? [];

    /// <summary>A method's declared options as one set; null when it has none.</summary>
    public static OptionSet? OptionSet(string name)
    {
        Validate(name);
        return Methods[name].Options;
    }

    /// <summary>Every declared option of every method.</summary>
    public static IEnumerable<OptionSpec> AllOptions() => Names.SelectMany(Options);

    /// <summary>The type of a method's options record; null when it has none.</summary>
    public static Type? OptionsType(string name) => OptionSet(name)?.Type;

    /// <summary>A method's options at their defaults; null when it has none.</summary>
    public static IMethodOptions? DefaultOptions(string name) => (IMethodOptions?)OptionSet(name)?.Defaults();

    public static string Summary(string name) => Methods[name].Attribute.Summary;

    /// <summary>The examples per optimizer step and peak learning rate a method trains with when none is asked for; 0: the shared default.</summary>
    public static (int BatchSize, double LearningRate) OwnDefaults(string name)
    {
        Validate(name);
        return (Methods[name].Attribute.BatchSize, Methods[name].Attribute.LearningRate);
    }

    /// <summary>The methods with a batch size or learning rate of their own (0 where they take the shared one), for --help.</summary>
    public static IEnumerable<(string Method, int BatchSize, double LearningRate)> OwnDefaults() =>
        from name in Names
        let own = Methods[name].Attribute
        where own.BatchSize > 0 || own.LearningRate > 0
        select (name, own.BatchSize, own.LearningRate);

    /// <summary>Whether a method's loss is one cross-entropy per target position (<see cref="MethodAttribute.PerPositionLoss"/>).</summary>
    public static bool HasPerPositionLoss(string name)
    {
        Validate(name);
        return Methods[name].Attribute.PerPositionLoss;
    }

    /// <summary>
    /// The methods whose class has a capability (implements <typeparamref name="T"/>), as a message lists them:
    /// "ntp, reverse, mtp, bst or nextlat".
    /// </summary>
    public static string Having<T>(string conjunction = "or") => Listed([.. Names.Where(n => typeof(T).IsAssignableFrom(Methods[n].Type))], conjunction);

    /// <summary>"a, b or c".</summary>
    public static string Listed(IReadOnlyList<string> names, string conjunction = "or") =>
        names.Count <= 1 ? string.Join("", names) : $"{string.Join(", ", names.Take(names.Count - 1))} {conjunction} {names[^1]}";

    public static void Validate(string name)
    {
        if (!Methods.ContainsKey(name))
            throw new UserError($"unknown method '{name}' (known: {string.Join(", ", Names)})");
    }

    public static ITrainingMethod Create(string name, MethodContext context)
    {
        Validate(name);
        try
        {
            return (ITrainingMethod)Activator.CreateInstance(Methods[name].Type, context)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            // A method's constructor that rejects its options throws a UserError; let it through unwrapped,
            // an option's bare name ("heads") qualified by the method ("mtp.heads").
            if (e.InnerException is ConfigError { Field: var field } error && !field.Contains('.'))
                throw new ConfigError($"{name}.{field}", error.Message[(field.Length + 1)..]);
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}
