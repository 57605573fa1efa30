using Foresight.Models;
using Foresight.Tasks;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Methods;

/// <summary>How a masked-diffusion model fills in its answer.</summary>
public enum DiffusionSampler
{
    /// <summary>LLaDA: at each step commit the most confident masked positions, keep the rest masked.</summary>
    LowConfidence,

    /// <summary>MDLM: going from time t to s, each masked position is revealed with probability (t - s) / t.</summary>
    Ancestral,

    /// <summary>
    /// HKUNLP's top-k decoding with remasking ("stochastic0.5-linear"): every step predicts every answer token, then masks again
    /// the (K - 1 - step) / K share of them that are least confident, log-probabilities perturbed by Gumbel noise of scale
    /// 0.5 x that share; so a token written early can be rewritten later. The rewrite of a visible token is read where the
    /// loss never trained one (it covers masked tokens only): while the model is unsure, two tokens that must agree can
    /// each copy the other and stay apart (docs/results/minimal-planning.md: 0% exact where low-confidence decodes 17%).
    /// </summary>
    TopKRemasking,
}

/// <summary>How the masked-diffusion loss weights each masked token.</summary>
public enum DiffusionWeighting
{
    /// <summary>1/t, the continuous-time ELBO of MDLM and LLaDA (in discrete time, HKUNLP's "original" 1 / (i + 1)).</summary>
    Elbo,

    /// <summary>1 for every masked token, averaged over them (BERT's masked-LM loss): lower variance, not a likelihood bound.</summary>
    Uniform,

    /// <summary>
    /// 1 - t, averaged over the masked tokens: HKUNLP's "linear" time reweighting (in discrete time exactly theirs, T - i).
    /// Like 1/t it favours lightly masked answers, but it is bounded: no blow-up as t -> 0. Not a likelihood bound.
    /// </summary>
    Linear,
}

/// <summary>What a masked-diffusion model's positions attend to. Only <see cref="Bidirectional"/> is MDLM / LLaDA; the others are controls.</summary>
public enum DiffusionAttention
{
    /// <summary>Every position sees every other.</summary>
    Bidirectional,

    /// <summary>A causal mask: a target position sees the prefix and the target positions up to itself.</summary>
    Causal,

    /// <summary>A causal prefix (encoded exactly as a causal model encodes it) under a bidirectional answer.</summary>
    CausalPrefix,
}

/// <summary>Masked diffusion's options: its loss, readout, attention and sampler.</summary>
public sealed record DiffusionOptions : IMethodOptions
{
    [Option("low-confidence (LLaDA: commit the most confident masked tokens), ancestral (MDLM) or top-k-remasking (HKUNLP: rewrite every token, remask the least confident)", DecodeTime = true)]
    public DiffusionSampler Sampler { get; init; } = DiffusionSampler.LowConfidence;

    [Option("denoising steps K (0: one per target token; 1: one-shot)", DecodeTime = true)]
    public int Steps { get; init; }

    [Option("Gumbel temperature when picking each masked token (0: argmax)", DecodeTime = true)]
    public double Temperature { get; init; }

    [Option("loss weight of a masked token: elbo (1/t, MDLM/LLaDA), uniform (mean over masked tokens) or linear (1 - t, HKUNLP)", Label = "{0} weighting")]
    public DiffusionWeighting Weighting { get; init; } = DiffusionWeighting.Elbo;

    /// <summary>Read token i's prediction at position i - 1, as HKUNLP's MDM and DiffuLLaMA do, instead of at i (MDLM, LLaDA).</summary>
    [Option("predict each target token at the position before it (HKUNLP's MDM) rather than at its own", Label = "shifted")]
    public bool Shift { get; init; }

    /// <summary>
    /// Predict token i from both positions beside it: the logits read at i - 1 plus, through a learned map, those
    /// read at i + 1, so each lookup (child of the previous node, parent of the next) is one hop. A diagnostic, not MDLM / LLaDA.
    /// </summary>
    [Option("predict each target token from the positions on both sides of it (a forward readout at i - 1 plus a backward one at i + 1)", Label = "neighbour readout")]
    public bool Neighbours { get; init; }

    /// <summary>γ of HKUNLP's adaptive token reweighting (their "subgoal imbalance" fix): a focal loss on masked tokens.</summary>
    [Option("γ of HKUNLP's token reweighting, each masked token's loss times (1 - p)^γ (0: off)", Label = "focus {0}")]
    public double Focus { get; init; }

    [Option("bidirectional (MDLM/LLaDA), or the controls causal and causal-prefix (a causal prefix under a bidirectional answer)", Label = "{0} attention")]
    public DiffusionAttention Attention { get; init; } = DiffusionAttention.Bidirectional;

    /// <summary>α of HKUNLP's focal token reweighting, α (1 - p)^γ: a constant factor of the loss, which the gradient clip (not AdamW) sees.</summary>
    [Option("α of HKUNLP's token reweighting: each masked token's loss times α (1 - p)^γ (1: none; theirs 0.25)", Label = "α {0}")]
    public double FocusScale { get; init; } = 1;

    /// <summary>
    /// HKUNLP's discrete time: i uniform in 0..T-1, each maskable token masked with probability (i + 1) / T, the masked tokens'
    /// weighted loss summed and divided by the number of masked tokens in the batch (weights: elbo 1 / (i + 1), linear T - i, uniform 1).
    /// </summary>
    [Option("train on T discrete noise levels as HKUNLP's MDM does, masking rate (i + 1)/T for i uniform in 0..T-1 (0: continuous t, stratified over the batch)", Label = "T = {0}")]
    public int TimeSteps { get; init; }

    /// <summary>MDLM's own objective noises the whole sequence; LLaDA's fine-tuning loss (the default here) never masks the prompt.</summary>
    [Option("mask and predict the prompt's tokens too, at the same rate t (full-sequence MDLM); decoding is still given the whole prompt", Label = "noised prompt")]
    public bool NoisePrompt { get; init; }

    public void Validate()
    {
        if (Steps < 0) throw new ConfigError("steps", $"must not be negative (0: one step per target token), got {Steps}");
        OptionChecks.NonNegative(Temperature, "temperature", " (0: argmax)");
        OptionChecks.NonNegative(Focus, "focus", " (0: off)");
        OptionChecks.Positive(FocusScale, "focus_scale");
        if (TimeSteps < 0) throw new ConfigError("time_steps", $"must not be negative (0: continuous time), got {TimeSteps}");
        if (Shift && Neighbours)
            throw new ConfigError("neighbours", "already reads each token at the position before it (and after it): drop diffusion.shift");
        if (NoisePrompt && (Neighbours || Attention != DiffusionAttention.Bidirectional))
            throw new ConfigError("noise_prompt", "is full-sequence MDLM: it needs bidirectional attention and no neighbour readout");
    }
}

/// <summary>
/// Masked (absorbing-state) diffusion over the target, as in MDLM and LLaDA: a bidirectional GPT
/// sees the prefix and a partly masked answer and predicts every masked token at once. The prefix is
/// never masked. Decoding starts from an all-masked answer and unmasks it over K steps, so the
/// model can settle the easy end of the path (the goal) before the hard first decision.
/// The mask is the task's filler token '$', which never appears in data.
/// It trains at batch 256 and lr 5e-4 unless told otherwise: at ntp's 128 and 1e-3 even the masked
/// controls that learn the lookups at 256 and 5e-4 stay on the plateau (docs/results/diffusion.md).
/// </summary>
[Method("diffusion", "masked diffusion over the target (bidirectional); decoded by iterative unmasking", BatchSize = 256, LearningRate = 5e-4,
    Options = typeof(DiffusionOptions))]
public sealed class MaskedDiffusion : BackboneMethod
{
    private readonly int _mask;
    private readonly DiffusionOptions _options;
    private readonly Linear? _backwardReadout; // --diffusion-neighbours: the state after token i -> its prediction
    private readonly nn.Module _model;

    public MaskedDiffusion(MethodContext context) : this(context, context.OptionsOf<DiffusionOptions>())
    {
    }

    /// <summary>The options are read (and checked) once, before the backbone they shape is built.</summary>
    private MaskedDiffusion(MethodContext context, DiffusionOptions options)
        : base(context, context.Task.PrefixLength + context.Task.TargetLength,
            causal: options.Attention != DiffusionAttention.Bidirectional,
            bidirectionalTail: options.Attention == DiffusionAttention.CausalPrefix ? context.Task.TargetLength : 0)
    {
        context.RequireAllLossPositions("diffusion trains on whichever target tokens are masked");
        _mask = context.Task.FillerToken;
        _options = options;
        _model = Backbone;
        if (_options.Neighbours)
        {
            _backwardReadout = nn.Linear(Backbone.Width, Backbone.Width, hasBias: false);
            _model = new ModuleGroup(("gpt", Backbone), ("backward_readout", _backwardReadout));
        }
    }

    public override nn.Module Model => _model;

    public DiffusionSampler Sampler => _options.Sampler;

    /// <summary>Denoising steps used by <see cref="Decode"/>.</summary>
    public int Steps => _options.Steps == 0 ? TargetLength : _options.Steps;

    /// <summary>
    /// The continuous-time ELBO of MDLM / LLaDA: L = E_t [ (1/t) * sum over masked tokens of -log p(x_0 | x_t) ],
    /// normalised per token. 1/t is the ELBO weight of the absorbing process: at small t few
    /// tokens are masked, so each one stands for many. The uniform variant is the plain mean over masked tokens; linear weights them by 1 - t first.
    /// With --diffusion-focus γ > 0 or --diffusion-focus-scale α, each token's loss is first scaled by α (1 - p)^γ, p = exp(-loss) (HKUNLP's MDM).
    /// In HKUNLP's discrete time (--diffusion-time-steps T), L = sum over masked tokens of w(i) * loss / (masked tokens in the batch).
    /// The tokens are the answer's, or with --diffusion-noise-prompt the whole sequence's.
    /// </summary>
    public override Tensor Loss(Batch batch)
    {
        var (time, masked) = Noise(batch); // (B,), (B, P + T) with the prompt noised, else (B, T)
        var clean = _options.NoisePrompt ? cat([batch.Prefix, batch.Target], 1) : batch.Target;
        var logits = _options.NoisePrompt ? SequenceLogits(clean.Fill(masked, _mask)) // (B, P + T, V)
            : AnswerLogits(batch.Prefix, batch.Target.Fill(masked, _mask)); // (B, T, V)
        var perToken = F.cross_entropy(logits.flatten(0, 1), clean.flatten(), reduction: nn.Reduction.None).view(masked.shape);
        if (_options.Focus > 0 || _options.FocusScale != 1) perToken = (-perToken).exp().SubtractedFrom(1).Power(_options.Focus).Times(_options.FocusScale) * perToken; // α (1 - p)^γ · loss
        var maskedLoss = perToken * masked;
        if (_options.TimeSteps is > 0 and var steps)
        {
            var level = time.Times(steps).round().Minus(1); // (B,): i in 0..T-1
            var weight = _options.Weighting switch
            {
                DiffusionWeighting.Elbo => level.Plus(1).DividedInto(1), // 1 / (i + 1)
                DiffusionWeighting.Linear => level.SubtractedFrom(steps), // T - i
                _ => ones_like(level),
            };
            return (maskedLoss * weight.unsqueeze(1)).sum() / masked.sum().AtLeast(1);
        }
        return _options.Weighting switch
        {
            DiffusionWeighting.Elbo => (maskedLoss / time.unsqueeze(1)).sum().Over(masked.numel()),
            DiffusionWeighting.Linear => (maskedLoss * time.SubtractedFrom(1).unsqueeze(1)).sum() / masked.sum().AtLeast(1),
            _ => maskedLoss.sum() / masked.sum().AtLeast(1),
        };
    }

    /// <summary>
    /// t per example, stratified over the batch (one uniform offset, t_i = 1 - (i + u) / B, so every
    /// batch covers (0, 1] evenly), or in discrete time (i + 1) / T with i uniform in 0..T-1; each target
    /// token (with the prompt noised, each token of the sequence) masked independently with probability t.
    /// </summary>
    internal (Tensor Time, Tensor Masked) Noise(Batch batch)
    {
        var generator = new Generator((ulong)batch.NoiseSeed);
        long b = batch.Size;
        var time = _options.TimeSteps is > 0 and var steps
            ? randint(0, steps, [b], generator: generator).to_type(ScalarType.Float32).Plus(1).Over(steps) // (B,) in {1/T, .., 1}
            : HeldScalars.Arange(b, ScalarType.Float32).Plus(rand(1, generator: generator)).Over(b).SubtractedFrom(1); // (B,) in (0, 1]
        long width = _options.NoisePrompt ? PrefixLength + TargetLength : TargetLength;
        var masked = rand(b, width, generator: generator) < time.unsqueeze(1); // (B, width)
        return (time, masked);
    }

    public override Tensor Decode(Tensor prefix) => Sample(prefix).Answer;

    public override DiffusionOptions ResolvedOptions => _options with { Steps = Steps };

    /// <summary>
    /// Decodes with the configured sampler and also returns, for every target position, the step
    /// (0..K-1) at which it was committed.
    /// </summary>
    public (Tensor Answer, Tensor CommitStep) Sample(Tensor prefix) =>
        Sample(prefix, _options.Sampler, Steps, _options.Temperature);

    /// <summary>The scale of the Gumbel noise on the top-k remasking sampler's scores, times the share still to remask (HKUNLP's "stochastic0.5").</summary>
    public const double RemaskingNoise = 0.5;

    /// <summary>Answers drawn with the configured sampler and step budget, each token picked at <paramref name="temperature"/> (Gumbel-max).</summary>
    public override Tensor Sample(Tensor prefix, double temperature, Generator generator) =>
        Sample(prefix, _options.Sampler, Steps, temperature, generator).Answer;

    /// <summary>Decodes with any sampler and step budget K >= 1 (the accuracy-vs-steps sweep uses this).</summary>
    public (Tensor Answer, Tensor CommitStep) Sample(Tensor prefix, DiffusionSampler sampler, int steps, double temperature = 0, Generator? randomness = null)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "a sampler needs at least one step");
        long b = prefix.shape[0];
        var answer = AllMasked(b); // (B, T)
        var commitStep = HeldScalars.Full(b, TargetLength, -1, ScalarType.Int64);
        var generator = randomness ?? new Generator(0); // reveals and Gumbel noise; fixed by default, so evaluation is deterministic
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var logits = AnswerLogits(prefix, answer); // (B, T, V)
            logits.IndexFill_(-1, tensor(new long[] { _mask }), double.NegativeInfinity); // never predict the mask itself
            var probabilities = logits.softmax(-1);
            // LLaDA's Gumbel-max: argmax(logits / tau + Gumbel noise) samples at temperature tau; confidence stays p(prediction).
            var prediction = temperature == 0
                ? probabilities.argmax(-1)
                : logits.Over(temperature).Minus(rand(logits.shape, generator: generator).log().neg().log()).argmax(-1); // (B, T)
            var confidence = probabilities.gather(-1, prediction.unsqueeze(-1)).squeeze(-1); // (B, T)
            var stillMasked = answer.EqualTo(_mask);
            Tensor commit; // (B, T) bool: positions revealed at this step
            if (sampler == DiffusionSampler.TopKRemasking)
            {
                // Every position takes its new prediction; the least confident share (K - 1 - step) / K goes back under the mask.
                double share = (double)(steps - 1 - step) / steps;
                int remask = (int)(TargetLength * share);
                var remasked = zeros_like(stillMasked);
                if (remask > 0)
                {
                    var gumbel = rand(confidence.shape, generator: generator).log().neg().log().neg();
                    var lowest = confidence.log().Plus(gumbel.Times(RemaskingNoise * share)).topk(remask, 1, largest: false).indexes; // (B, remask)
                    remasked = remasked.scatter(1, lowest, ones_like(lowest, dtype: ScalarType.Bool));
                }
                answer = prediction.Fill(remasked, _mask).MoveToOuterDisposeScope();
                commitStep = HeldScalars.Where(remasked, -1, HeldScalars.Where(commitStep.EqualTo(-1), step, commitStep)).MoveToOuterDisposeScope();
                continue;
            }
            if (sampler == DiffusionSampler.LowConfidence)
            {
                // Commit counts spread evenly over the K steps; the most confident masked positions go first.
                int count = (int)((long)(step + 1) * TargetLength / steps - (long)step * TargetLength / steps);
                if (count == 0) continue;
                var chosen = confidence.Fill(stillMasked.logical_not(), double.NegativeInfinity).topk(count, 1).indexes; // (B, count)
                commit = zeros_like(stillMasked).scatter(1, chosen, ones_like(chosen, dtype: ScalarType.Bool));
            }
            else
            {
                double t = 1 - (double)step / steps, s = 1 - (double)(step + 1) / steps;
                commit = stillMasked.logical_and(rand(stillMasked.shape, generator: generator).Below((t - s) / t));
            }
            answer = where(commit, prediction, answer).MoveToOuterDisposeScope();
            commitStep = commitStep.Fill(commit, step).MoveToOuterDisposeScope();
        }
        return (answer, commitStep);
    }

    /// <summary>Each target token predicted with the true earlier tokens shown and itself and every later one masked.</summary>
    public override Tensor TeacherForced(Batch batch)
    {
        var predictions = new List<Tensor>(TargetLength);
        var positions = HeldScalars.Arange(TargetLength, ScalarType.Int64).unsqueeze(0); // (1, T)
        for (int j = 0; j < TargetLength; j++)
        {
            var input = batch.Target.Fill(positions.GreaterOrEqual(j), _mask);
            predictions.Add(AnswerLogits(batch.Prefix, input).select(1, j).argmax(-1));
        }
        return stack(predictions, 1); // (B, T)
    }

    /// <summary>(B, P + T) -> (B, P + T, V): every token's prediction, read at its own position or, shifted, at the one before (the first token at its own).</summary>
    private Tensor SequenceLogits(Tensor sequence)
    {
        var logits = Backbone.Logits(Backbone.Hidden(sequence)); // (B, P + T, V)
        return _options.Shift ? cat([logits.narrow(1, 0, 1), logits.narrow(1, 0, logits.shape[1] - 1)], 1) : logits;
    }

    /// <summary>At '=', with the whole answer still masked: the state decoding starts from.</summary>
    public override Tensor PrefixStates(Tensor prefix) => StatesAt(cat([prefix, AllMasked(prefix.shape[0])], 1), PrefixLength - 1);

    private Tensor AllMasked(long batchSize) => HeldScalars.Full(batchSize, TargetLength, _mask, ScalarType.Int64);

    /// <summary>
    /// (B, P) and (B, T) -> (B, T, V): the prediction of each target token, read at its own position or,
    /// shifted, at the position before it, whose input is the previous token (the last prefix token '=' for the first).
    /// With the neighbour readout, the shifted logits plus those read through the backward map at the
    /// position after it (none for the last token, which has no position after it).
    /// </summary>
    private Tensor AnswerLogits(Tensor prefix, Tensor answer)
    {
        var hidden = Backbone.Hidden(cat([prefix, answer], 1)); // (B, P + T, C)
        bool readBefore = _options.Shift || _backwardReadout is not null;
        var logits = Backbone.Logits(hidden.narrow(1, readBefore ? PrefixLength - 1 : PrefixLength, TargetLength)); // (B, T, V)
        if (_backwardReadout is null) return logits;
        var after = Backbone.Logits(_backwardReadout.forward(hidden.narrow(1, PrefixLength + 1, TargetLength - 1))); // (B, T - 1, V): token i read at i + 1
        return logits.Plus(F.pad(after, [0, 0, 0, 1]));
    }
}
