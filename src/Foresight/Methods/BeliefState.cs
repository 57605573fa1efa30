using Foresight.Models;
using Foresight.Tasks;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Methods;

/// <summary>
/// Belief-state transformer (Hu et al. 2025). A forward encoder reads the sequence left to right; a
/// backward encoder reads the end of the answer right to left, starting from '$' (the end marker: the
/// empty suffix). For a prefix ending at t and a suffix starting at u, a text head on both states
/// predicts the token after the prefix, s(t + 1), and the token before the suffix, s(u - 1). Training
/// covers every pair with the prefix ending at '=' or later and u - t >= 2, as in the authors' star-graph
/// runs. Predicting s(u - 1) from a suffix ending at the goal makes the forward state at '=' carry the
/// graph in a form the head can walk backwards from the goal. Decoding is greedy with the forward encoder
/// and the empty suffix. Unlike the authors' code, the two encoders do not share a token embedding.
/// </summary>
[Method("bst", "belief-state transformer: forward and backward encoders; a head predicts the next and the previous token")]
public sealed class BeliefState : LeftToRightMethod
{
    private readonly Backbone _backward;
    private readonly TextHead _head;
    private readonly nn.Module _model;
    private readonly int _end;
    private readonly Tensor _pairForward; // (M,) answer index i of each pair's prefix end: t = '=' + i
    private readonly Tensor _pairBackward; // (M,) index j of each pair's suffix start in the backward input: u = P + T - j

    public BeliefState(MethodContext context) : base(context)
    {
        context.RequireAllLossPositions("bst trains on (prefix, suffix) pairs, not on single target positions");
        _end = context.Task.FillerToken;
        _backward = context.Model.Build(context.Task, blockSize: TargetLength);
        _head = new TextHead(Backbone.Width, Backbone.VocabularySize);
        _model = new ModuleGroup(("forward", Backbone), ("backward", _backward), ("head", _head));
        var pairs = Pairs(TargetLength);
        _pairForward = tensor(pairs.Select(p => (long)p.Forward).ToArray());
        _pairBackward = tensor(pairs.Select(p => (long)p.Backward).ToArray());
    }

    public override nn.Module Model => _model;

    /// <summary>
    /// Every (prefix end, suffix start) pair the loss covers, as indices into the forward states over the
    /// answer (i: the prefix ends at '=' + i) and into the backward states (j: the suffix starts j tokens
    /// before the end marker). With s = prefix + target + '$', t = P - 1 + i and u = P + T - j, the gap
    /// u - t >= 2 is i + j <= T - 1; the pair predicts target[i] next and target[T - 1 - j] previous.
    /// </summary>
    internal static IReadOnlyList<(int Forward, int Backward)> Pairs(int targetLength) =>
        [.. from i in Enumerable.Range(0, targetLength) from j in Enumerable.Range(0, targetLength - i) select (i, j)];

    /// <summary>Mean over pairs of (CE(next) + CE(previous)) / 2, the authors' loss.</summary>
    public override Tensor Loss(Batch batch)
    {
        var forward = Backbone.Hidden(TeacherForcedInput(batch.Prefix, batch.Target)).narrow(1, PrefixLength - 1, TargetLength); // (B, T, C)
        var backward = _backward.Hidden(BackwardInput(batch.Target)); // (B, T, C)
        var (next, previous) = _head.forward(forward.index_select(1, _pairForward), backward.index_select(1, _pairBackward)); // (B, M, V) each
        var nextTarget = batch.Target.index_select(1, _pairForward); // (B, M)
        var previousTarget = batch.Target.index_select(1, _pairBackward.SubtractedFrom(TargetLength - 1));
        return F.cross_entropy(next.flatten(0, 1), nextTarget.flatten()).Plus(F.cross_entropy(previous.flatten(0, 1), previousTarget.flatten())).Over(2);
    }

    /// <summary>'$' and then the target from its last token back to its second: (B, T); state j sees the suffix from u = P + T - j to the end.</summary>
    internal Tensor BackwardInput(Tensor target) =>
        cat([HeldScalars.Full(target.shape[0], 1, _end, ScalarType.Int64, target.device), target.narrow(1, 1, TargetLength - 1).flip(1)], 1);

    protected override Tensor TargetLogits(Tensor input) =>
        NextWithEmptySuffix(Backbone.Hidden(input).narrow(1, PrefixLength - 1, TargetLength));

    protected override Tensor NextLogits(Tensor sequence) =>
        NextWithEmptySuffix(Backbone.Hidden(sequence).narrow(1, -1, 1)).squeeze(1);

    protected override IncrementalDecoder? StartDecoding() => null; // its next token also reads the backward encoder

    /// <summary>
    /// Next-token logits for forward states (B, L, C) paired with the empty suffix: the backward state of
    /// '$' alone, the same for every example, so it is encoded once and broadcast.
    /// </summary>
    private Tensor NextWithEmptySuffix(Tensor forward)
    {
        var empty = _backward.Hidden(HeldScalars.Full(1, 1, _end, ScalarType.Int64, forward.device)); // (1, 1, C)
        return _head.forward(forward, empty.expand(forward.shape)).Next;
    }

    /// <summary>
    /// The authors' text head: the two states side by side (2C), a residual MLP and a LayerNorm, then the
    /// halves read out as the next and the previous token through one shared unembedding.
    /// </summary>
    private sealed class TextHead : Module<Tensor, Tensor, (Tensor Next, Tensor Previous)>
    {
        private readonly Gpt.Mlp mlp;
        private readonly LayerNorm norm;
        private readonly Linear unembedding;

        public TextHead(int width, int vocabularySize) : base(nameof(TextHead))
        {
            mlp = new Gpt.Mlp(2 * width);
            norm = LayerNorm(2 * width);
            unembedding = Linear(width, vocabularySize, hasBias: false);
            RegisterComponents();
            foreach (var (name, parameter) in named_parameters())
            {
                using var _ = no_grad();
                if (name.EndsWith(".bias")) init.zeros_(parameter);
                else if (!name.StartsWith("norm")) init.normal_(parameter, 0, 0.02);
            }
        }

        public override (Tensor Next, Tensor Previous) forward(Tensor forwardState, Tensor backwardState) // (B, M, C) each
        {
            var x = cat([forwardState, backwardState], -1); // (B, M, 2C)
            x = norm.forward(x.Plus(mlp.forward(x)));
            var halves = x.chunk(2, -1);
            return (unembedding.forward(halves[0]), unembedding.forward(halves[1])); // (B, M, V) each
        }
    }
}
