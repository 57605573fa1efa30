using System.CommandLine;
using System.Text.Json.Nodes;
using Foresight.Methods;
using Foresight.Models;
using Foresight.Tasks;
using Foresight.Training;

namespace Foresight.Cli;

/// <summary>The task flags shared by train, compare, curve and data.</summary>
internal sealed class TaskOptions
{
    private readonly Option<string> _task = new("--task")
    {
        Description = "task: star (path-star graph), addition, planning (Ye et al.'s two chains sharing a node), or the open-ended sibling, triangle, circle, line (Nagarajan et al.'s creativity tasks)",
        DefaultValueFactory = _ => "star",
    };
    private readonly Option<int> _degree = new("--degree") { Description = "path-star: arms at the source (d)", DefaultValueFactory = _ => 2 };
    private readonly Option<int> _pathLength = new("--path-length") { Description = "path-star: nodes on the source-to-goal path, source included (l)", DefaultValueFactory = _ => 5 };
    private readonly Option<int> _nodes = new("--nodes") { Description = "path-star: node labels are drawn from 0..N-1 (N)", DefaultValueFactory = _ => 50 };
    private readonly Option<int> _digits = new("--digits") { Description = $"addition: digits per operand (1..{AdditionTask.MaxDigits}); the answer has one more", DefaultValueFactory = _ => 3 };
    private readonly Option<string> _answerOrder = new("--answer-order") { Description = "addition: msb-first (as people write it) or lsb-first", DefaultValueFactory = _ => "msb-first" };

    private readonly Option<int> _chainLength = new("--chain-length") { Description = $"planning: nodes per chain (k, {MinimalPlanningTask.MinChainLength}..{MinimalPlanningTask.MaxChainLength}); labels are 0..2k-1", DefaultValueFactory = _ => 6 };

    private readonly Option<int?> _parents = new("--parents") { Description = $"sibling: parents in the hidden graph (default {SiblingDiscoveryTask.DefaultParents})" };
    private readonly Option<int?> _children = new("--children") { Description = $"sibling: children of each parent (default {SiblingDiscoveryTask.DefaultChildren})" };
    private readonly Option<double?> _edgeProbability = new("--edge-probability") { Description = $"triangle: probability of each edge of the hidden graph (default {TriangleDiscoveryTask.DefaultEdgeProbability}); --nodes sets its size (default {TriangleDiscoveryTask.DefaultNodes})" };
    private readonly Option<double?> _heldOut = new("--held-out") { Description = $"triangle: share of the graph's triangles never shown in training (default {TriangleDiscoveryTask.DefaultHeldOut})" };
    private readonly Option<int?> _graphSeed = new("--graph-seed") { Description = "sibling, triangle: seed of the hidden graph (default 0), apart from the run's --seed" };
    private readonly Option<int?> _labels = new("--labels") { Description = $"circle, line: vertex labels to choose from (default {ConstructionTask.DefaultLabels})" };
    private readonly Option<int?> _size = new("--size") { Description = $"circle, line: vertices in the shape (default {ConstructionTask.DefaultSize})" };
    private readonly Option<string> _prefix = new("--prefix") { Description = "open-ended tasks: seed (a random seed string before each example, answers decoded greedily) or null (a constant prefix, answers sampled)", DefaultValueFactory = _ => "seed" };
    private readonly Option<int> _seedLength = new("--seed-length") { Description = "open-ended tasks: tokens in the prefix", DefaultValueFactory = _ => OpenEndedTask.DefaultSeedLength };
    private readonly Option<double?> _temperature = new("--temperature") { Description = "open-ended tasks: softmax temperature answers are drawn at when scored (default 0, greedy, with --prefix seed; 1 with --prefix null)" };

    private readonly Option[] _all;

    public TaskOptions(Command command)
    {
        _all = [_task, _degree, _pathLength, _nodes, _digits, _answerOrder, _chainLength, _parents, _children, _edgeProbability, _heldOut, _graphSeed, _labels, _size,
            _prefix, _seedLength, _temperature];
        foreach (var option in _all) command.Options.Add(option);
    }

    /// <summary>Whether any task flag was given on the command line (not just defaulted).</summary>
    public bool AnyGiven(ParseResult result) => _all.Any(o => TrainingOptions.Given(result, o));

    public ITask Build(ParseResult result)
    {
        string name = result.GetValue(_task)!;
        var own = name switch
        {
            "star" => new Option[] { _degree, _pathLength, _nodes },
            "addition" => new Option[] { _digits, _answerOrder },
            "planning" => new Option[] { _chainLength },
            "sibling" => [_parents, _children, _graphSeed, _prefix, _seedLength, _temperature],
            "triangle" => [_nodes, _edgeProbability, _heldOut, _graphSeed, _prefix, _seedLength, _temperature],
            "circle" or "line" => [_labels, _size, _prefix, _seedLength, _temperature],
            _ => [],
        };
        foreach (var option in _all.Skip(1).Except(own))
            if (result.GetResult(option) is { Implicit: false })
                throw new UserError($"{option.Name} does not apply to --task {name}");
        return TaskRegistry.FromJson(name switch
        {
            "addition" => new JsonObject { ["name"] = name, ["digits"] = result.GetValue(_digits), ["answer_order"] = result.GetValue(_answerOrder) },
            "planning" => new JsonObject { ["name"] = name, ["chain_length"] = result.GetValue(_chainLength) },
            "sibling" or "triangle" or "circle" or "line" => OpenEnded(name, result),
            _ => new JsonObject
            {
                ["name"] = name,
                ["degree"] = result.GetValue(_degree),
                ["path_length"] = result.GetValue(_pathLength),
                ["nodes"] = result.GetValue(_nodes),
            },
        });
    }

    /// <summary>An open-ended task's config.json fields from its flags; a flag not given leaves the task's own default.</summary>
    private JsonObject OpenEnded(string name, ParseResult result)
    {
        var json = new JsonObject { ["name"] = name, ["prefix"] = result.GetValue(_prefix), ["seed_length"] = result.GetValue(_seedLength) };
        void Set<T>(string key, Option<T?> option) where T : struct
        {
            if (result.GetValue(option) is { } value) json[key] = JsonValue.Create(value);
        }
        Set("parents", _parents);
        Set("children", _children);
        Set("edge_probability", _edgeProbability);
        Set("held_out", _heldOut);
        Set("graph_seed", _graphSeed);
        Set("labels", _labels);
        Set("size", _size);
        Set("temperature", _temperature);
        if (name == "triangle" && result.GetResult(_nodes) is { Implicit: false }) json["nodes"] = result.GetValue(_nodes);
        return json;
    }
}

/// <summary>Model size and training flags shared by train and compare. Defaults are the embedded demo.</summary>
internal sealed class TrainingOptions
{
    private static readonly TrainingConfig Defaults = new();

    private readonly Option<string> _backbone = new("--backbone")
    {
        Description = "sequence model: gpt (attention) or mamba (selective state space, sized to the GPT's parameter count)",
        DefaultValueFactory = _ => "gpt",
    };
    private readonly Option<int> _layers = new("--layers") { Description = "blocks (transformer or Mamba)", DefaultValueFactory = _ => 4 };
    private readonly Option<int> _width = new("--width") { Description = "embedding width", DefaultValueFactory = _ => 128 };
    private readonly Option<int> _heads = new("--heads") { Description = "attention heads", DefaultValueFactory = _ => 4 };
    private readonly Option<string> _positions = new("--positions")
    {
        Description = "position encoding: learned (absolute embeddings, GPT-2) or rotary (relative, LLaMA/LLaDA)",
        DefaultValueFactory = _ => "learned",
    };
    private readonly Option<string> _precision = new("--precision")
    {
        Description = "number format of the linear layers' and attention's multiplies: bf16 (fp32 master weights; ~2x faster here) or fp32",
        DefaultValueFactory = _ => Json.EnumName(new ModelSize(1, 1, 1).Precision),
    };
    private readonly Option<int> _trainSamples = new("--train-samples") { Description = "training examples generated", DefaultValueFactory = _ => Defaults.TrainSamples };
    private readonly Option<int> _testSamples = new("--test-samples") { Description = "held-out examples for the final evaluation", DefaultValueFactory = _ => Defaults.TestSamples };
    private readonly Option<int> _epochs = new("--epochs") { Description = "passes over the training set", DefaultValueFactory = _ => Defaults.Epochs };
    private readonly Option<int> _batchSize = new("--batch-size")
    {
        Description = "examples per optimizer step" + OwnDefaultsNote(m => m.BatchSize > 0 ? $"{m.BatchSize}" : null),
        DefaultValueFactory = _ => Defaults.BatchSize,
    };
    private readonly Option<double> _lr = new("--lr")
    {
        Description = "peak learning rate (AdamW)" + OwnDefaultsNote(m => m.LearningRate > 0 ? $"{m.LearningRate}" : null),
        DefaultValueFactory = _ => Defaults.LearningRate,
    };
    private readonly Option<int> _warmup = new("--warmup-steps") { Description = "linear warmup, in optimizer steps", DefaultValueFactory = _ => Defaults.WarmupSteps };
    private readonly Option<double> _minLrRatio = new("--min-lr-ratio") { Description = "cosine decay ends at this fraction of --lr", DefaultValueFactory = _ => Defaults.MinLearningRateRatio };
    private readonly Option<double> _weightDecay = new("--weight-decay") { Description = "AdamW weight decay", DefaultValueFactory = _ => Defaults.WeightDecay };
    private readonly Option<double> _gradClip = new("--grad-clip") { Description = "gradient norm clip", DefaultValueFactory = _ => Defaults.GradientClip };
    private readonly Option<int> _seed = new("--seed") { Description = "seed for data, initialisation and data order", DefaultValueFactory = _ => Defaults.Seed };
    private readonly Option<int> _evalEvery = new("--eval-every") { Description = "steps between evaluations (0: about ten per run)", DefaultValueFactory = _ => Defaults.EvalEvery };
    private readonly Option<int> _evalSamples = new("--eval-samples") { Description = "test examples used by the periodic evaluations", DefaultValueFactory = _ => Defaults.EvalSamples };
    private readonly Option<string> _lossPositions = new("--loss-positions")
    {
        Description = "target positions the loss covers: all, or first-decision (the Indecipherable-token control)",
        DefaultValueFactory = _ => "all",
    };
    private readonly Option<string> _weightDecayOn = new("--weight-decay-on")
    {
        Description = "parameters AdamW's weight decay shrinks: matrices (weight matrices only, as nanoGPT) or all",
        DefaultValueFactory = _ => Json.EnumName(Defaults.WeightDecayOn),
    };
    private readonly List<(OptionSpec Spec, Option Option)> _methodOptions = [];

    public TrainingOptions(Command command)
    {
        foreach (var option in new Option[] { _backbone, _layers, _width, _heads, _positions, _precision, _trainSamples, _testSamples, _epochs, _batchSize, _lr,
                     _warmup, _minLrRatio, _weightDecay, _weightDecayOn, _gradClip, _seed, _evalEvery, _evalSamples, _lossPositions })
            command.Options.Add(option);
        foreach (var spec in MethodRegistry.AllOptions())
        {
            string help = $"{spec.Method}: {spec.Help}";
            Option option = spec.Type == typeof(bool)
                ? new Option<bool>(spec.Flag) { Description = help }
                : new Option<string>(spec.Flag) { Description = help, DefaultValueFactory = spec.Default is null ? null! : _ => OptionSpec.Text(spec.Default) };
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
        foreach (var (spec, option) in given.Where(o => !methods.Contains(o.Spec.Method)))
            throw new UserError($"{spec.Flag} applies to {spec.Method}, not {string.Join(", ", methods)}");
        return methods.ToDictionary(method => method, method =>
        {
            if (MethodRegistry.DefaultOptions(method) is not { } options) return null;
            foreach (var (spec, option) in given.Where(o => o.Spec.Method == method))
                options = MethodOptionSet.With(method, options, spec, option is Option<bool> flag ? r.GetValue(flag) : spec.Parse(r.GetValue((Option<string>)option)!));
            return MethodOptionSet.Validated(method, options);
        });
    }

    /// <summary>The options of one method from the flags (see the overload for several).</summary>
    public IMethodOptions? MethodOptions(ParseResult r, string method) => MethodOptions(r, [method])[method];

    /// <summary>The flag of every config field a <see cref="ConfigError"/> may name: training, model and every method's options.</summary>
    public static IReadOnlyDictionary<string, string> FlagsByField { get; } = new Dictionary<string, string>
    {
        ["training.train_samples"] = "--train-samples", ["training.test_samples"] = "--test-samples", ["training.epochs"] = "--epochs",
        ["training.batch_size"] = "--batch-size", ["training.learning_rate"] = "--lr", ["training.warmup_steps"] = "--warmup-steps",
        ["training.min_learning_rate_ratio"] = "--min-lr-ratio", ["training.weight_decay"] = "--weight-decay", ["training.weight_decay_on"] = "--weight-decay-on",
        ["training.gradient_clip"] = "--grad-clip", ["training.seed"] = "--seed", ["training.eval_every"] = "--eval-every",
        ["training.eval_samples"] = "--eval-samples", ["training.loss_positions"] = "--loss-positions",
        ["model.layers"] = "--layers", ["model.width"] = "--width", ["model.heads"] = "--heads", ["model.positions"] = "--positions",
        ["model.backbone"] = "--backbone", ["model.precision"] = "--precision",
        ["task.parents"] = "--parents", ["task.children"] = "--children", ["task.nodes"] = "--nodes", ["task.edge_probability"] = "--edge-probability",
        ["task.held_out"] = "--held-out", ["task.labels"] = "--labels", ["task.size"] = "--size", ["task.prefix"] = "--prefix",
        ["task.seed_length"] = "--seed-length", ["task.temperature"] = "--temperature",
        ["bench.sizes"] = "--sizes",
    }.Concat(MethodRegistry.AllOptions().Select(o => KeyValuePair.Create(o.Field, o.Flag))).ToDictionary();

    /// <summary>A library message with every config field it names written as its flag.</summary>
    public static string InFlags(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, @"\b[a-z]+\.[a-z_]+\b", m => FlagsByField.GetValueOrDefault(m.Value, m.Value));

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
        MethodRegistry.WithOwnDefaults(method, Training(r), Given(r, _batchSize), Given(r, _lr));

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
            WeightDecayOn: ParseFlag<WeightDecayOn>("--weight-decay-on", r.GetValue(_weightDecayOn)!));
        config.Validate();
        return config;
    }
}

internal static class OutputPaths
{
    /// <summary>A fresh default directory under runs/, named so that it sorts by time.</summary>
    public static string Default(string kind) => Path.Combine("runs", $"{kind}-{DateTime.Now:yyyyMMdd-HHmmss}");
}
