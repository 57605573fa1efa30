using System.CommandLine;
using Foresight.Methods;
using Foresight.Models;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;

namespace Foresight.Cli;

/// <summary>
/// The flag of every config field an error may name ("training.batch_size" is --batch-size): the training and model
/// flags as they are declared here, and every option a method or a task declares. The library names fields; the CLI
/// prints them as flags.
/// </summary>
internal static class FieldFlags
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Declared = new();

    /// <summary><paramref name="option"/>, recorded as the flag that sets <paramref name="field"/>.</summary>
    public static T Declare<T>(string field, T option) where T : Option
    {
        Declared[field] = option.Name;
        return option;
    }

    public static string? Of(string field) =>
        Declared.TryGetValue(field, out string? flag) ? flag
        : MethodRegistry.AllOptions().Concat(TaskRegistry.AllOptions()).FirstOrDefault(o => o.Field == field)?.Flag;

    /// <summary>A library message with every config field it names written as its flag.</summary>
    public static string InFlags(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, @"\b[a-z]+\.[a-z_]+\b", m => Of(m.Value) ?? m.Value);
}

/// <summary>The flag of a declared option (a method's, a task's): a switch for a bool option, else text its spec parses.</summary>
internal static class DeclaredFlag
{
    public static Option Create(string flag, bool isSwitch, string description, object? defaultValue = null) => isSwitch
        ? new Option<bool>(flag) { Description = description }
        : new Option<string>(flag) { Description = description, DefaultValueFactory = defaultValue is null ? null! : _ => OptionSpec.Text(defaultValue) };

    /// <summary>The value given with <paramref name="flag"/>, of <paramref name="spec"/>'s type.</summary>
    public static object? Value(ParseResult result, Option flag, OptionSpec spec) =>
        flag is Option<bool> on ? result.GetValue(on) : spec.Parse(result.GetValue((Option<string>)flag)!);
}

/// <summary>
/// The task flags shared by train, compare, curve, bench and data: --task, and every option a task declares (one flag
/// for an option several tasks declare, such as --nodes). A flag the chosen task does not declare is an error.
/// </summary>
internal sealed class TaskOptions
{
    private readonly Option<string> _task = FieldFlags.Declare("task.name", new Option<string>("--task")
    {
        Description = "task, one of: " + string.Join("; ", TaskRegistry.Names.Select(n => $"{n} ({TaskRegistry.Summary(n)})")),
        DefaultValueFactory = _ => TaskRegistry.Default,
    });
    private readonly List<Option> _flags = [];

    public TaskOptions(Command command)
    {
        command.Options.Add(_task);
        foreach (var declared in TaskRegistry.AllOptions().GroupBy(o => o.Flag))
        {
            // one help line per meaning of the flag, naming the tasks that share it and each default
            string help = string.Join("; ", declared.GroupBy(o => (o.Help, Default: OptionSpec.Text(o.Default)))
                .Select(g => $"{string.Join(", ", g.Select(o => o.Owner))}: {g.Key.Help}" + (g.Key.Default.Length > 0 ? $" (default {g.Key.Default})" : "")));
            var option = DeclaredFlag.Create(declared.Key, declared.All(o => o.ValueType == typeof(bool)), help);
            _flags.Add(option);
            command.Options.Add(option);
        }
    }

    /// <summary>Whether any task flag was given on the command line (not just defaulted).</summary>
    public bool AnyGiven(ParseResult result) => _flags.Prepend(_task).Any(o => TrainingOptions.Given(result, o));

    /// <summary>The task the flags describe: the chosen task's defaults with the flags given for it.</summary>
    public TaskSpec Build(ParseResult result)
    {
        string name = result.GetValue(_task)!;
        var set = TaskRegistry.OptionSet(name);
        var options = set.Defaults();
        foreach (var option in _flags.Where(o => TrainingOptions.Given(result, o)))
        {
            var spec = set.Specs.FirstOrDefault(s => s.Flag == option.Name)
                ?? throw new UserError($"{option.Name} does not apply to --task {name}" +
                                       (set.Specs.Count == 0 ? "" : $" (its options: {string.Join(", ", set.Specs.Select(s => s.Flag))})"));
            options = set.With(options, spec, DeclaredFlag.Value(result, option, spec));
        }
        var task = new TaskSpec(name, (ITaskOptions)options);
        task.Build(); // a task its options cannot make (a graph with too few of what it asks for) fails here, before anything is written
        return task;
    }
}

/// <summary>Model size and training flags shared by train and compare. Defaults are the embedded demo.</summary>
internal sealed class TrainingOptions
{
    private static readonly TrainingConfig Defaults = new();

    private readonly Option<string> _backbone = FieldFlags.Declare("model.backbone", new Option<string>("--backbone")
    {
        Description = "sequence model: gpt (attention) or mamba (selective state space, sized to the GPT's parameter count)",
        DefaultValueFactory = _ => "gpt",
    });
    private readonly Option<int> _layers = FieldFlags.Declare("model.layers", new Option<int>("--layers") { Description = "blocks (transformer or Mamba)", DefaultValueFactory = _ => 4 });
    private readonly Option<int> _width = FieldFlags.Declare("model.width", new Option<int>("--width") { Description = "embedding width", DefaultValueFactory = _ => 128 });
    private readonly Option<int> _heads = FieldFlags.Declare("model.heads", new Option<int>("--heads") { Description = "attention heads", DefaultValueFactory = _ => 4 });
    private readonly Option<string> _positions = FieldFlags.Declare("model.positions", new Option<string>("--positions")
    {
        Description = "position encoding: learned (absolute embeddings, GPT-2) or rotary (relative, LLaMA/LLaDA)",
        DefaultValueFactory = _ => "learned",
    });
    private readonly Option<string> _precision = FieldFlags.Declare("model.precision", new Option<string>("--precision")
    {
        Description = "number format of the linear layers' and attention's multiplies: bf16 (fp32 master weights; ~2x faster here) or fp32",
        DefaultValueFactory = _ => Json.EnumName(new ModelSize(1, 1, 1).Precision),
    });
    private readonly Option<int> _trainSamples = FieldFlags.Declare("training.train_samples", new Option<int>("--train-samples") { Description = "training examples generated", DefaultValueFactory = _ => Defaults.TrainSamples });
    private readonly Option<int> _testSamples = FieldFlags.Declare("training.test_samples", new Option<int>("--test-samples") { Description = "held-out examples for the final evaluation", DefaultValueFactory = _ => Defaults.TestSamples });
    private readonly Option<int> _epochs = FieldFlags.Declare("training.epochs", new Option<int>("--epochs") { Description = "passes over the training set", DefaultValueFactory = _ => Defaults.Epochs });
    private readonly Option<int> _batchSize = FieldFlags.Declare("training.batch_size", new Option<int>("--batch-size")
    {
        Description = "examples per optimizer step" + OwnDefaultsNote(m => m.BatchSize > 0 ? $"{m.BatchSize}" : null),
        DefaultValueFactory = _ => Defaults.BatchSize,
    });
    private readonly Option<double> _lr = FieldFlags.Declare("training.learning_rate", new Option<double>("--lr")
    {
        Description = "peak learning rate (AdamW)" + OwnDefaultsNote(m => m.LearningRate > 0 ? $"{m.LearningRate}" : null),
        DefaultValueFactory = _ => Defaults.LearningRate,
    });
    private readonly Option<int> _warmup = FieldFlags.Declare("training.warmup_steps", new Option<int>("--warmup-steps") { Description = "linear warmup, in optimizer steps", DefaultValueFactory = _ => Defaults.WarmupSteps });
    private readonly Option<double> _minLrRatio = FieldFlags.Declare("training.min_learning_rate_ratio", new Option<double>("--min-lr-ratio") { Description = "cosine decay ends at this fraction of --lr", DefaultValueFactory = _ => Defaults.MinLearningRateRatio });
    private readonly Option<double> _weightDecay = FieldFlags.Declare("training.weight_decay", new Option<double>("--weight-decay") { Description = "AdamW weight decay", DefaultValueFactory = _ => Defaults.WeightDecay });
    private readonly Option<double> _gradClip = FieldFlags.Declare("training.gradient_clip", new Option<double>("--grad-clip") { Description = "gradient norm clip (0: none, as Bachmann & Nagarajan's train.py)", DefaultValueFactory = _ => Defaults.GradientClip });
    private readonly Option<int> _seed = FieldFlags.Declare("training.seed", new Option<int>("--seed") { Description = "seed for data, initialisation and data order", DefaultValueFactory = _ => Defaults.Seed });
    private readonly Option<int> _evalEvery = FieldFlags.Declare("training.eval_every", new Option<int>("--eval-every") { Description = "steps between evaluations (0: about ten per run)", DefaultValueFactory = _ => Defaults.EvalEvery });
    private readonly Option<int> _evalSamples = FieldFlags.Declare("training.eval_samples", new Option<int>("--eval-samples") { Description = "test examples used by the periodic evaluations", DefaultValueFactory = _ => Defaults.EvalSamples });
    private readonly Option<string> _lossPositions = FieldFlags.Declare("training.loss_positions", new Option<string>("--loss-positions")
    {
        Description = "target positions the loss covers: all, or first-decision (the Indecipherable-token control)",
        DefaultValueFactory = _ => "all",
    });
    private readonly Option<string> _weightDecayOn = FieldFlags.Declare("training.weight_decay_on", new Option<string>("--weight-decay-on")
    {
        Description = "parameters AdamW's weight decay shrinks: matrices (weight matrices only, as nanoGPT) or all",
        DefaultValueFactory = _ => Json.EnumName(Defaults.WeightDecayOn),
    });
    private readonly Option<string> _testSet = FieldFlags.Declare("training.test_set", new Option<string>("--test-set")
    {
        Description = "disjoint (the training stream skips every test problem) or independent (two streams, as runs before 2026-12-07)",
        DefaultValueFactory = _ => Json.EnumName(Defaults.TestSet),
    });
    private readonly List<(OptionSpec Spec, Option Option)> _methodOptions = [];

    public TrainingOptions(Command command)
    {
        foreach (var option in new Option[] { _backbone, _layers, _width, _heads, _positions, _precision, _trainSamples, _testSamples, _epochs, _batchSize, _lr,
                     _warmup, _minLrRatio, _weightDecay, _weightDecayOn, _gradClip, _seed, _evalEvery, _evalSamples, _lossPositions, _testSet })
            command.Options.Add(option);
        foreach (var spec in MethodRegistry.AllOptions())
        {
            var option = DeclaredFlag.Create(spec.Flag, spec.Type == typeof(bool), $"{spec.Owner}: {spec.Help}", spec.Default);
            _methodOptions.Add((spec, option));
            command.Options.Add(option);
        }
    }

    /// <summary>
    /// The options of each of <paramref name="methods"/> from the flags: a method's defaults with the flags given for it.
    /// A flag of a method not among them is an error: --mtp-heads applies to mtp, not ntp.
    /// </summary>
    public Dictionary<string, IMethodOptions?> MethodOptions(ParseResult r, IReadOnlyList<string> methods)
    {
        var given = _methodOptions.Where(o => Given(r, o.Option)).ToList();
        foreach (var (spec, option) in given.Where(o => !methods.Contains(o.Spec.Owner)))
            throw new UserError($"{spec.Flag} applies to {spec.Owner}, not {string.Join(", ", methods)}");
        return methods.ToDictionary(method => method, method =>
        {
            if (MethodRegistry.DefaultOptions(method) is not { } options) return null;
            foreach (var (spec, option) in given.Where(o => o.Spec.Owner == method))
                options = MethodOptionSet.With(method, options, spec, DeclaredFlag.Value(r, option, spec));
            return MethodOptionSet.Validated(method, options);
        });
    }

    /// <summary>The options of one method from the flags (see the overload for several).</summary>
    public IMethodOptions? MethodOptions(ParseResult r, string method) => MethodOptions(r, [method])[method];

    /// <summary>Whether any model flag was given on the command line (not just defaulted).</summary>
    public bool AnyModelFlagGiven(ParseResult r) => new Option[] { _backbone, _layers, _width, _heads, _positions, _precision }.Any(o => Given(r, o));

    /// <summary>Whether --layers, --width or --heads was given: one model size chosen on the command line.</summary>
    public bool SizeGiven(ParseResult r) => new Option[] { _layers, _width, _heads }.Any(o => Given(r, o));

    public bool BackboneGiven(ParseResult r) => Given(r, _backbone);

    public ModelSize Model(ParseResult r)
    {
        var size = new ModelSize(r.GetValue(_layers), r.GetValue(_width), r.GetValue(_heads), ParseFlag<PositionEncoding>("--positions", r.GetValue(_positions)!),
            ParseFlag<BackboneKind>("--backbone", r.GetValue(_backbone)!), ParseFlag<Precision>("--precision", r.GetValue(_precision)!));
        size.Validate();
        return size;
    }

    /// <summary>--methods: comma-separated known method names, none twice.</summary>
    public static string[] ParseMethods(string text)
    {
        var names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0) throw new UserError("--methods is empty");
        foreach (string name in names) MethodRegistry.Validate(name);
        if (names.Distinct().Count() != names.Length) throw new UserError($"--methods names a method twice: {text}");
        return names;
    }

    /// <summary>An enum flag's value, spelled as the files spell it (low-confidence); anything else is a one-line error naming the choices.</summary>
    public static T ParseFlag<T>(string flag, string value) where T : struct, Enum
    {
        var choices = Enum.GetValues<T>();
        foreach (var choice in choices)
            if (Json.EnumName(choice) == value) return choice;
        var names = choices.Select(c => $"'{Json.EnumName(c)}'").ToList();
        string listed = names.Count == 1 ? names[0] : $"{string.Join(", ", names[..^1])} or {names[^1]}";
        throw new UserError($"{flag} must be {listed}, got '{value}'");
    }

    /// <summary>The training flags, with <paramref name="method"/>'s own batch size and learning rate where the user gave none.</summary>
    public TrainingConfig Training(ParseResult r, string method) =>
        Training(r).WithOwnDefaults(method, Given(r, _batchSize), Given(r, _lr));

    internal static bool Given(ParseResult r, Option option) => r.GetResult(option) is { Implicit: false };

    private static string OwnDefaultsNote(Func<(string Method, int BatchSize, double LearningRate), string?> value)
    {
        var notes = MethodRegistry.OwnDefaults().Select(m => value(m) is { } v ? $"{m.Method}: {v}" : null).OfType<string>().ToList();
        return notes.Count == 0 ? "" : $" (default for {string.Join(", ", notes)})";
    }

    /// <summary>The training flags as given, with the shared defaults (tuned for ntp) for the rest.</summary>
    public TrainingConfig Training(ParseResult r)
    {
        var config = new TrainingConfig(
            TrainSamples: r.GetValue(_trainSamples),
            TestSamples: r.GetValue(_testSamples),
            Epochs: r.GetValue(_epochs),
            BatchSize: r.GetValue(_batchSize),
            LearningRate: r.GetValue(_lr),
            WarmupSteps: r.GetValue(_warmup),
            MinLearningRateRatio: r.GetValue(_minLrRatio),
            WeightDecay: r.GetValue(_weightDecay),
            GradientClip: r.GetValue(_gradClip),
            Seed: r.GetValue(_seed),
            EvalEvery: r.GetValue(_evalEvery),
            EvalSamples: r.GetValue(_evalSamples),
            LossPositions: ParseFlag<LossPositions>("--loss-positions", r.GetValue(_lossPositions)!),
            WeightDecayOn: ParseFlag<WeightDecayOn>("--weight-decay-on", r.GetValue(_weightDecayOn)!),
            TestSet: ParseFlag<TestSetDraw>("--test-set", r.GetValue(_testSet)!));
        config.Validate();
        return config;
    }
}

internal static class OutputPaths
{
    /// <summary>A fresh default directory under runs/, named so that it sorts by time.</summary>
    public static string Default(string kind) => Path.Combine("runs", $"{kind}-{DateTime.Now:yyyyMMdd-HHmmss}");
}
