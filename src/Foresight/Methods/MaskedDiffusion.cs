using Foresight.Models;
using Foresight.Tasks;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Methods;

/// <summary>
/// Masked (absorbing-state) diffusion over the target, as in MDLM and LLaDA: a bidirectional GPT
/// sees the prefix and a partly masked answer and predicts every masked token at once. The prefix is
/// never masked. Decoding starts from an all-masked answer and unmasks it over K steps, so the
/// model can settle the easy end of the path (the goal) before the hard first decision.
/// The mask is the task's filler token '$', which never appears in data.
/// It trains at batch 256 and lr 5e-4 unless told otherwise: at ntp's 128 and 1e-3 even the masked
/// controls that learn the lookups at 256 and 5e-4 stay on the plateau (README, issue 5).
/// </summary>
[Method("diffusion", "masked diffusion over the target (bidirectional); decoded by iterative unmasking", BatchSize = 256, LearningRate = 5e-4)]
public sealed class MaskedDiffusion : BackboneMethod
{
    private readonly int _mask;
    private readonly MethodOptions _options;
    private readonly Linear? _backwardReadout; // --diffusion-neighbours: the state after token i -> its prediction
    private readonly nn.Module _model;

    public MaskedDiffusion(MethodContext context)
        : base(context, context.Task.PrefixLength + context.Task.TargetLength,
            causal: (context.Options?.DiffusionAttention ?? DiffusionAttention.Bidirectional) != DiffusionAttention.Bidirectional,
            bidirectionalTail: context.Options?.DiffusionAttention == DiffusionAttention.CausalPrefix ? context.Task.TargetLength : 0)
    {
        context.RequireAllLossPositions("diffusion trains on whichever target tokens are masked");
        _mask = context.Task.FillerToken;
        _options = context.ValidOptions();
        _model = Backbone;
        if (_options.DiffusionNeighbours)
        {
            _backwardReadout = nn.Linear(Backbone.Width, Backbone.Width, hasBias: false);
            _model = new ModuleGroup(("gpt", Backbone), ("backward_readout", _backwardReadout));
        }
    }

    public override nn.Module Model => _model;

    public DiffusionSampler Sampler => _options.DiffusionSampler;

    /// <summary>Denoising steps used by <see cref="Decode"/>.</summary>
    public int Steps => _options.DiffusionSteps == 0 ? TargetLength : _options.DiffusionSteps;

    /// <summary>
    /// The continuous-time ELBO of MDLM / LLaDA: L = E_t [ (1/t) * sum over masked tokens of -log p(x_0 | x_t) ],
    /// normalised per target token. 1/t is the ELBO weight of the absorbing process: at small t few
    /// tokens are masked, so each one stands for many. The uniform variant is the plain mean over masked tokens; linear weights them by 1 - t first.
    /// With --diffusion-focus γ > 0, each token's loss is first scaled by (1 - p)^γ, p = exp(-loss) (HKUNLP's MDM).
    /// </summary>
    public override Tensor Loss(Batch batch)
    {
        var (time, masked) = Noise(batch); // (B,), (B, T)
        var logits = AnswerLogits(batch.Prefix, batch.Target.masked_fill(masked, _mask)); // (B, T, V)
        var perToken = F.cross_entropy(logits.flatten(0, 1), batch.Target.flatten(), reduction: nn.Reduction.None).view(masked.shape);
        if (_options.DiffusionFocus > 0) perToken = (1 - (-perToken).exp()).pow(_options.DiffusionFocus) * perToken;
        return _options.DiffusionWeighting switch
        {
            DiffusionWeighting.Elbo => (perToken * masked / time.unsqueeze(1)).sum() / masked.numel(),
            DiffusionWeighting.Linear => (perToken * masked * (1 - time).unsqueeze(1)).sum() / masked.sum().clamp_min(1),
            _ => (perToken * masked).sum() / masked.sum().clamp_min(1),
        };
    }

    /// <summary>
    /// t per example, stratified over the batch (one uniform offset, t_i = 1 - (i + u) / B, so every
    /// batch covers (0, 1] evenly), and each target token masked independently with probability t.
    /// </summary>
    internal (Tensor Time, Tensor Masked) Noise(Batch batch)
    {
        var generator = new Generator((ulong)batch.NoiseSeed);
        long b = batch.Size;
        var time = 1 - (arange(b, dtype: ScalarType.Float32) + rand(1, generator: generator)) / b; // (B,) in (0, 1]
        var masked = rand(b, TargetLength, generator: generator) < time.unsqueeze(1); // (B, T)
        return (time, masked);
    }

    public override Tensor Decode(Tensor prefix) => Sample(prefix).Answer;

    public override MethodOptions ResolvedOptions => _options with { DiffusionSteps = Steps };

    /// <summary>
    /// Decodes with the configured sampler and also returns, for every target position, the step
    /// (0..K-1) at which it was committed.
    /// </summary>
    public (Tensor Answer, Tensor CommitStep) Sample(Tensor prefix) =>
        Sample(prefix, _options.DiffusionSampler, Steps, _options.DiffusionTemperature);

    /// <summary>Decodes with any sampler and step budget K >= 1 (the accuracy-vs-steps sweep uses this).</summary>
    public (Tensor Answer, Tensor CommitStep) Sample(Tensor prefix, DiffusionSampler sampler, int steps, double temperature = 0)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "a sampler needs at least one step");
        long b = prefix.shape[0];
        var answer = AllMasked(b); // (B, T)
        var commitStep = full(b, TargetLength, -1, dtype: ScalarType.Int64);
        var generator = new Generator(0); // reveals and Gumbel noise; fixed, so evaluation is deterministic
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var logits = AnswerLogits(prefix, answer); // (B, T, V)
            logits.index_fill_(-1, tensor(new long[] { _mask }), double.NegativeInfinity); // never predict the mask itself
            var probabilities = logits.softmax(-1);
            // LLaDA's Gumbel-max: argmax(logits / tau + Gumbel noise) samples at temperature tau; confidence stays p(prediction).
            var prediction = temperature == 0
                ? probabilities.argmax(-1)
                : (logits / temperature - rand(logits.shape, generator: generator).log().neg().log()).argmax(-1); // (B, T)
            var confidence = probabilities.gather(-1, prediction.unsqueeze(-1)).squeeze(-1); // (B, T)
            var stillMasked = answer.eq(_mask);
            Tensor commit; // (B, T) bool: positions revealed at this step
            if (sampler == DiffusionSampler.LowConfidence)
            {
                // Commit counts spread evenly over the K steps; the most confident masked positions go first.
                int count = (int)((long)(step + 1) * TargetLength / steps - (long)step * TargetLength / steps);
                if (count == 0) continue;
                var chosen = confidence.masked_fill(stillMasked.logical_not(), double.NegativeInfinity).topk(count, 1).indexes; // (B, count)
                commit = zeros_like(stillMasked).scatter(1, chosen, ones_like(chosen, dtype: ScalarType.Bool));
            }
            else
            {
                double t = 1 - (double)step / steps, s = 1 - (double)(step + 1) / steps;
                commit = stillMasked.logical_and(rand(stillMasked.shape, generator: generator) < (t - s) / t);
            }
            answer = where(commit, prediction, answer).MoveToOuterDisposeScope();
            commitStep = commitStep.masked_fill(commit, step).MoveToOuterDisposeScope();
        }
        return (answer, commitStep);
    }

    /// <summary>Each target token predicted with the true earlier tokens shown and itself and every later one masked.</summary>
    public override Tensor TeacherForced(Batch batch)
    {
        var predictions = new List<Tensor>(TargetLength);
        var positions = arange(TargetLength, dtype: ScalarType.Int64).unsqueeze(0); // (1, T)
        for (int j = 0; j < TargetLength; j++)
        {
            var input = batch.Target.masked_fill(positions >= j, _mask);
            predictions.Add(AnswerLogits(batch.Prefix, input).select(1, j).argmax(-1));
        }
        return stack(predictions, 1); // (B, T)
    }

    /// <summary>At '=', with the whole answer still masked: the state decoding starts from.</summary>
    public override Tensor PrefixStates(Tensor prefix) => StatesAt(cat([prefix, AllMasked(prefix.shape[0])], 1), PrefixLength - 1);

    private Tensor AllMasked(long batchSize) => full(batchSize, TargetLength, _mask, dtype: ScalarType.Int64);

    /// <summary>
    /// (B, P) and (B, T) -> (B, T, V): the prediction of each target token, read at its own position or,
    /// shifted, at the position before it, whose input is the previous token (the last prefix token '=' for the first).
    /// With the neighbour readout, the shifted logits plus those read through the backward map at the
    /// position after it (none for the last token, which has no position after it).
    /// </summary>
    private Tensor AnswerLogits(Tensor prefix, Tensor answer)
    {
        var hidden = Backbone.Hidden(cat([prefix, answer], 1)); // (B, P + T, C)
        bool readBefore = _options.DiffusionShift || _backwardReadout is not null;
        var logits = Backbone.Logits(hidden.narrow(1, readBefore ? PrefixLength - 1 : PrefixLength, TargetLength)); // (B, T, V)
        if (_backwardReadout is null) return logits;
        var after = Backbone.Logits(_backwardReadout.forward(hidden.narrow(1, PrefixLength + 1, TargetLength - 1))); // (B, T - 1, V): token i read at i + 1
        return logits + F.pad(after, [0, 0, 0, 1]);
    }
}
