using System.Reflection;
using Foresight.Models;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Methods;

/// <summary>
/// What every method on one sequence model shares: the model sized for the task (a GPT, or with
/// --backbone mamba a Mamba where the method allows it), the logits at the positions that predict each
/// target token from an input of prefix + (T - 1) target-slot tokens, and the loss over the target
/// positions the run trains on.
/// </summary>
public abstract class BackboneMethod : ITrainingMethod, IPrefixStates
{
    private readonly Tensor? _lossPositions; // task-order target positions the loss covers; null: all

    /// <summary>A causal model over prefix + (T - 1) target-slot tokens.</summary>
    protected BackboneMethod(MethodContext context)
        : this(context, context.Task.PrefixLength + context.Task.TargetLength - 1, causal: true)
    {
    }

    protected BackboneMethod(MethodContext context, int blockSize, bool causal, int bidirectionalTail = 0)
    {
        PrefixLength = context.Task.PrefixLength;
        TargetLength = context.Task.TargetLength;
        Backbone = context.Model.Build(context.Task, blockSize, causal, bidirectionalTail, who: GetType().GetCustomAttribute<MethodAttribute>()?.Name ?? GetType().Name);
        _lossPositions = context.LossPositions switch
        {
            LossPositions.All => null,
            LossPositions.FirstDecision => context.Task.FirstDecisionPosition >= 0 ? tensor(new long[] { context.Task.FirstDecisionPosition })
                : throw new UserError($"--loss-positions first-decision needs one decision position; {context.Task.Description} has its decision at a different place in each example"),
            _ => throw new ArgumentOutOfRangeException(nameof(context), context.LossPositions, null),
        };
    }

    /// <summary>The backbone, or a container of it and whatever else the method trains (extra heads, a second encoder).</summary>
    public virtual nn.Module Model => Backbone;
    public int TokensPerExample => Backbone.BlockSize;

    protected Backbone Backbone { get; }
    protected int PrefixLength { get; }
    protected int TargetLength { get; }

    public abstract Tensor Loss(Tasks.Batch batch);
    public abstract Tensor Decode(Tensor prefix);
    public abstract Tensor TeacherForced(Tasks.Batch batch);

    public abstract Tensor Sample(Tensor prefix, double temperature, Generator generator);

    /// <summary>One token per row of <paramref name="logits"/> (..., V): drawn from softmax(logits / τ), or the argmax at τ = 0. Shape (..., 1).</summary>
    protected static Tensor Pick(Tensor logits, double temperature, Generator? generator)
    {
        if (temperature == 0) return logits.argmax(-1, keepdim: true);
        var probabilities = logits.to_type(ScalarType.Float32).Over(temperature).softmax(-1);
        var flat = probabilities.reshape(-1, probabilities.shape[^1]);
        return multinomial(flat, 1, generator: generator).reshape([.. logits.shape[..^1], 1]);
    }

    public virtual IMethodOptions? ResolvedOptions => null;

    /// <summary>
    /// Left-to-right decoding after the forced tokens (B, k), each next token from <see cref="NextLogits"/>, greedy or at
    /// a temperature: (B, T), in the order the model writes.
    /// </summary>
    protected Tensor Generate(Tensor prefix, Tensor? forced, double temperature = 0, Generator? generator = null)
    {
        var sequence = forced is null ? prefix : cat([prefix, forced], 1); // (B, P + i)
        using var decoder = StartDecoding();
        for (int i = (int)(forced?.shape[1] ?? 0); i < TargetLength; i++)
        {
            using var step = NewDisposeScope(); // keep only the grown sequence from each step
            var next = Pick(decoder?.NextLogits(sequence) ?? NextLogits(sequence), temperature, generator); // (B, 1)
            sequence = cat([sequence, next], 1).MoveToOuterDisposeScope();
        }
        return sequence.narrow(1, PrefixLength, TargetLength);
    }

    /// <summary>The prefix and the target without its last token: (B, P + T - 1), the input that predicts every target token.</summary>
    protected Tensor TeacherForcedInput(Tensor prefix, Tensor target) => cat([prefix, target.narrow(1, 0, TargetLength - 1)], 1);

    public virtual Tensor PrefixStates(Tensor prefix) => StatesAt(prefix, PrefixLength - 1);

    /// <summary>The residual stream at one position of <paramref name="input"/>, after the embeddings and each block: (L + 1, B, C).</summary>
    protected Tensor StatesAt(Tensor input, int position) =>
        stack(Backbone.LayerStates(input).Select(h => h.select(1, position)), 0);

    /// <summary>(B, P + T - 1) -> (B, T, V): the logits for target positions 0..T-1.</summary>
    protected virtual Tensor TargetLogits(Tensor input) => Backbone.forward(input).narrow(1, PrefixLength - 1, TargetLength);

    /// <summary>(B, L) -> (B, V): the logits for the token after the last one, what greedy decoding reads.</summary>
    protected virtual Tensor NextLogits(Tensor sequence) => Backbone.forward(sequence).select(1, -1);

    /// <summary>
    /// <see cref="NextLogits"/> for a growing sequence, reading each token once where the backbone can (a
    /// causal GPT's key-value cache); null where every call must re-read the sequence. A method whose
    /// <see cref="NextLogits"/> is not the backbone's own returns null.
    /// </summary>
    protected virtual IncrementalDecoder? StartDecoding() => Backbone.StartDecoding();

    /// <summary>
    /// Mean cross-entropy over the trained target positions. <paramref name="toTaskOrder"/> maps a
    /// (B, T) tensor in the order the logits are in back to task order, so position masks mean the same for every method.
    /// </summary>
    protected Tensor TargetLoss(Tensor logits, Tensor target, Func<Tensor, Tensor>? toTaskOrder = null)
    {
        var perToken = F.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction: nn.Reduction.None)
            .view(target.shape); // (B, T)
        if (_lossPositions is null) return perToken.mean();
        return (toTaskOrder?.Invoke(perToken) ?? perToken).index_select(1, _lossPositions).mean();
    }

    public void Dispose()
    {
        if (!ReferenceEquals(Model, Backbone)) Model.Dispose(); // a container holds the method's other modules
        Backbone.Dispose();
        _lossPositions?.Dispose();
    }
}
