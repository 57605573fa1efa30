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
    private readonly Option<string> _task = new("--task") { Description = "task: star (path-star graph) or addition", DefaultValueFactory = _ => "star" };
    private readonly Option<int> _degree = new("--degree") { Description = "path-star: arms at the source (d)", DefaultValueFactory = _ => 2 };
    private readonly Option<int> _pathLength = new("--path-length") { Description = "path-star: nodes on the source-to-goal path, source included (l)", DefaultValueFactory = _ => 5 };
    private readonly Option<int> _nodes = new("--nodes") { Description = "path-star: node labels are drawn from 0..N-1 (N)", DefaultValueFactory = _ => 50 };
    private readonly Option<int> _digits = new("--digits") { Description = $"addition: digits per operand (1..{AdditionTask.MaxDigits}); the answer has one more", DefaultValueFactory = _ => 3 };
    private readonly Option<string> _answerOrder = new("--answer-order") { Description = "addition: msb-first (as people write it) or lsb-first", DefaultValueFactory = _ => "msb-first" };

    public TaskOptions(Command command)
    {
        foreach (var option in new Option[] { _task, _degree, _pathLength, _nodes, _digits, _answerOrder }) command.Options.Add(option);
    }

    public ITask Build(ParseResult result)
    {
        string name = result.GetValue(_task)!;
        var own = name switch
        {
            "star" => new Option[] { _degree, _pathLength, _nodes },
            "addition" => new Option[] { _digits, _answerOrder },
            _ => [],
        };
        foreach (var option in new Option[] { _degree, _pathLength, _nodes, _digits, _answerOrder }.Except(own))
            if (result.GetResult(option) is { Implicit: false })
                throw new UserError($"{option.Name} does not apply to --task {name}");
        return TaskRegistry.FromJson(name switch
        {
            "addition" => new JsonObject { ["name"] = name, ["digits"] = result.GetValue(_digits), ["answer_order"] = result.GetValue(_answerOrder) },
            _ => new JsonObject
            {
                ["name"] = name,
                ["degree"] = result.GetValue(_degree),
                ["path_length"] = result.GetValue(_pathLength),
                ["nodes"] = result.GetValue(_nodes),
            },
        });
    }
}

/// <summary>Model size and training flags shared by train and compare. Defaults are the embedded demo.</summary>
internal sealed class TrainingOptions
{
    private static readonly (TrainingConfig Training, MethodOptions Method) Defaults = (new(), new());

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
    private readonly Option<int> _trainSamples = new("--train-samples") { Description = "training examples generated", DefaultValueFactory = _ => Defaults.Training.TrainSamples };
    private readonly Option<int> _testSamples = new("--test-samples") { Description = "held-out examples for the final evaluation", DefaultValueFactory = _ => Defaults.Training.TestSamples };
    private readonly Option<int> _epochs = new("--epochs") { Description = "passes over the training set", DefaultValueFactory = _ => Defaults.Training.Epochs };
    private readonly Option<int> _batchSize = new("--batch-size")
    {
        Description = "examples per optimizer step" + OwnDefaultsNote(m => m.BatchSize > 0 ? $"{m.BatchSize}" : null),
        DefaultValueFactory = _ => Defaults.Training.BatchSize,
    };
    private readonly Option<double> _lr = new("--lr")
    {
        Description = "peak learning rate (AdamW)" + OwnDefaultsNote(m => m.LearningRate > 0 ? $"{m.LearningRate}" : null),
        DefaultValueFactory = _ => Defaults.Training.LearningRate,
    };
    private readonly Option<int> _warmup = new("--warmup-steps") { Description = "linear warmup, in optimizer steps", DefaultValueFactory = _ => Defaults.Training.WarmupSteps };
    private readonly Option<double> _minLrRatio = new("--min-lr-ratio") { Description = "cosine decay ends at this fraction of --lr", DefaultValueFactory = _ => Defaults.Training.MinLearningRateRatio };
    private readonly Option<double> _weightDecay = new("--weight-decay") { Description = "AdamW weight decay", DefaultValueFactory = _ => Defaults.Training.WeightDecay };
    private readonly Option<double> _gradClip = new("--grad-clip") { Description = "gradient norm clip", DefaultValueFactory = _ => Defaults.Training.GradientClip };
    private readonly Option<int> _seed = new("--seed") { Description = "seed for data, initialisation and data order", DefaultValueFactory = _ => Defaults.Training.Seed };
    private readonly Option<int> _evalEvery = new("--eval-every") { Description = "steps between evaluations (0: about ten per run)", DefaultValueFactory = _ => Defaults.Training.EvalEvery };
    private readonly Option<int> _evalSamples = new("--eval-samples") { Description = "test examples used by the periodic evaluations", DefaultValueFactory = _ => Defaults.Training.EvalSamples };
    private readonly Option<string> _diffusionSampler = new("--diffusion-sampler")
    {
        Description = "diffusion: low-confidence (LLaDA: commit the most confident masked tokens) or ancestral (MDLM)",
        DefaultValueFactory = _ => "low-confidence",
    };
    private readonly Option<int> _diffusionSteps = new("--diffusion-steps") { Description = "diffusion: denoising steps K (0: one per target token; 1: one-shot)", DefaultValueFactory = _ => 0 };
    private readonly Option<double> _diffusionTemperature = new("--diffusion-temperature")
    {
        Description = "diffusion: Gumbel temperature when picking each masked token (0: argmax)",
        DefaultValueFactory = _ => 0,
    };
    private readonly Option<string> _diffusionWeighting = new("--diffusion-weighting")
    {
        Description = "diffusion: loss weight of a masked token, elbo (1/t, MDLM/LLaDA), uniform (mean over masked tokens) or linear (1 - t, HKUNLP)",
        DefaultValueFactory = _ => "elbo",
    };
    private readonly Option<bool> _diffusionShift = new("--diffusion-shift")
    {
        Description = "diffusion: predict each target token at the position before it (HKUNLP's MDM) rather than at its own",
    };
    private readonly Option<bool> _diffusionNeighbours = new("--diffusion-neighbours")
    {
        Description = "diffusion: predict each target token from the positions on both sides of it (a forward readout at i - 1 plus a backward one at i + 1)",
    };
    private readonly Option<string> _diffusionAttention = new("--diffusion-attention")
    {
        Description = "diffusion: bidirectional (MDLM/LLaDA), or the controls causal and causal-prefix (a causal prefix under a bidirectional answer)",
        DefaultValueFactory = _ => "bidirectional",
    };
    private readonly Option<double> _diffusionFocus = new("--diffusion-focus")
    {
        Description = "diffusion: γ of HKUNLP's token reweighting, each masked token's loss times (1 - p)^γ (0: off)",
        DefaultValueFactory = _ => Defaults.Method.DiffusionFocus,
    };
    private readonly Option<int> _mtpHeads = new("--mtp-heads")
    {
        Description = "mtp: output heads; head k predicts the token k ahead (1: plain next-token prediction)",
        DefaultValueFactory = _ => Defaults.Method.MtpHeads,
    };
    private readonly Option<double> _nextLatLatentWeight = new("--nextlat-latent-weight")
    {
        Description = "nextlat: weight of the smooth-L1 distance to the true next hidden state",
        DefaultValueFactory = _ => Defaults.Method.NextlatLatentWeight,
    };
    private readonly Option<double> _nextLatKlWeight = new("--nextlat-kl-weight")
    {
        Description = "nextlat: weight of the KL between the token distributions of the true and the predicted next hidden state",
        DefaultValueFactory = _ => Defaults.Method.NextlatKlWeight,
    };
    private readonly Option<int> _nextLatHorizon = new("--nextlat-horizon")
    {
        Description = "nextlat: steps d the latent dynamics is rolled forward from each true hidden state, each step scored (1: the next state only)",
        DefaultValueFactory = _ => Defaults.Method.NextlatHorizon,
    };
    private readonly Option<string> _nextLatDynamics = new("--nextlat-dynamics")
    {
        Description = "nextlat: the latent-dynamics network, mlp (state and next token through one GELU layer) or residual (the state plus a zero-initialised MLP update, as a public reimplementation reads the paper)",
        DefaultValueFactory = _ => Json.EnumName(Defaults.Method.NextlatDynamics),
    };
    private readonly Option<string?> _init = new("--init") { Description = "grpo: the finished run (of ntp, reverse, mtp, bst or nextlat) whose model it fine-tunes" };
    private readonly Option<int> _grpoGroupSize = new("--grpo-group-size")
    {
        Description = "grpo: answers sampled per prompt; advantages are normalized within each group",
        DefaultValueFactory = _ => Defaults.Method.GrpoGroupSize,
    };
    private readonly Option<double> _grpoTemperature = new("--grpo-temperature")
    {
        Description = "grpo: sampling temperature",
        DefaultValueFactory = _ => Defaults.Method.GrpoTemperature,
    };
    private readonly Option<double> _grpoClip = new("--grpo-clip")
    {
        Description = "grpo: clip range ε of the policy ratio",
        DefaultValueFactory = _ => Defaults.Method.GrpoClip,
    };
    private readonly Option<double> _grpoKlWeight = new("--grpo-kl-weight")
    {
        Description = "grpo: weight β of the KL penalty to the initial model (0: none)",
        DefaultValueFactory = _ => Defaults.Method.GrpoKlWeight,
    };
    private readonly Option<string> _lossPositions = new("--loss-positions")
    {
        Description = "target positions the loss covers: all, or first-decision (the Indecipherable-token control)",
        DefaultValueFactory = _ => "all",
    };

    public TrainingOptions(Command command)
    {
        foreach (var option in new Option[] { _backbone, _layers, _width, _heads, _positions, _precision, _trainSamples, _testSamples, _epochs, _batchSize, _lr,
                     _warmup, _minLrRatio, _weightDecay, _gradClip, _seed, _evalEvery, _evalSamples, _lossPositions, _diffusionSampler, _diffusionSteps, _diffusionTemperature, _diffusionWeighting, _diffusionShift, _diffusionNeighbours, _diffusionAttention, _diffusionFocus,
                     _mtpHeads, _nextLatLatentWeight, _nextLatKlWeight, _nextLatHorizon, _nextLatDynamics, _init, _grpoGroupSize, _grpoTemperature, _grpoClip, _grpoKlWeight })
            command.Options.Add(option);
    }

    public ModelSize Model(ParseResult r)
    {
        var size = new ModelSize(r.GetValue(_layers), r.GetValue(_width), r.GetValue(_heads), ParseFlag<PositionEncoding>("--positions", r.GetValue(_positions)!),
            ParseFlag<BackboneKind>("--backbone", r.GetValue(_backbone)!), ParseFlag<Precision>("--precision", r.GetValue(_precision)!));
        size.Validate();
        return size;
    }

    public MethodOptions MethodOptions(ParseResult r)
    {
        var options = new MethodOptions(
            DiffusionSampler: ParseFlag<DiffusionSampler>("--diffusion-sampler", r.GetValue(_diffusionSampler)!),
            DiffusionSteps: r.GetValue(_diffusionSteps),
            DiffusionTemperature: r.GetValue(_diffusionTemperature),
            DiffusionShift: r.GetValue(_diffusionShift),
            DiffusionNeighbours: r.GetValue(_diffusionNeighbours),
            DiffusionAttention: ParseFlag<DiffusionAttention>("--diffusion-attention", r.GetValue(_diffusionAttention)!),
            DiffusionWeighting: ParseFlag<DiffusionWeighting>("--diffusion-weighting", r.GetValue(_diffusionWeighting)!),
            MtpHeads: r.GetValue(_mtpHeads),
            NextlatLatentWeight: r.GetValue(_nextLatLatentWeight),
            NextlatKlWeight: r.GetValue(_nextLatKlWeight),
            NextlatHorizon: r.GetValue(_nextLatHorizon),
            NextlatDynamics: ParseFlag<NextlatDynamics>("--nextlat-dynamics", r.GetValue(_nextLatDynamics)!),
            GrpoInit: r.GetValue(_init) is { } init ? Path.GetFullPath(init) : null,
            GrpoGroupSize: r.GetValue(_grpoGroupSize),
            GrpoTemperature: r.GetValue(_grpoTemperature),
            GrpoClip: r.GetValue(_grpoClip),
            GrpoKlWeight: r.GetValue(_grpoKlWeight),
            DiffusionFocus: r.GetValue(_diffusionFocus));
        options.Validate();
        return options;
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

    private static bool Given(ParseResult r, Option option) => r.GetResult(option) is { Implicit: false };

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
            LossPositions: ParseFlag<LossPositions>("--loss-positions", r.GetValue(_lossPositions)!));
        config.Validate();
        return config;
    }
}

internal static class OutputPaths
{
    /// <summary>A fresh default directory under runs/, named so that it sorts by time.</summary>
    public static string Default(string kind) => Path.Combine("runs", $"{kind}-{DateTime.Now:yyyyMMdd-HHmmss}");
}
