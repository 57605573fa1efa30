using Foresight.Models;
using Foresight.Tasks;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Methods;

/// <summary>
/// Next-latent prediction (NextLat, Teoh et al. 2025): next-token prediction plus a latent-dynamics
/// MLP that predicts the GPT's next hidden state from its current one and the next token,
/// ĥ(t+1) = ψ(h(t), x(t+1)). The loss is
///   L = CE + λ_h · SmoothL1(ĥ(t+1), sg h(t+1)) + λ_KL · KL(softmax(W sg h(t+1)) ‖ softmax(W ĥ(t+1))),
/// with the gradient reaching the GPT through h(t) only (the target h(t+1) is detached), so each hidden
/// state must hold what the next one will need: a belief state. ψ is used in training only; decoding is ntp's.
/// The hidden states are the final LayerNorm's outputs (what the unembedding W reads), over the answer:
/// from '=' to the second-to-last target input.
/// </summary>
[Method("nextlat", "next-token prediction plus predicting the next hidden state from the current one and the next token")]
public sealed class NextLatent : LeftToRightMethod
{
    private readonly LatentDynamics _dynamics;
    private readonly nn.Module _model;
    private readonly MethodOptions _options;

    public NextLatent(MethodContext context) : base(context)
    {
        context.RequireAllLossPositions("nextlat adds a latent loss over every answer position");
        _options = context.ValidOptions();
        _dynamics = new LatentDynamics(Backbone.VocabularySize, Backbone.Width);
        _model = new ModuleGroup(("gpt", Backbone), ("dynamics", _dynamics));
    }

    public override nn.Module Model => _model;

    public override MethodOptions ResolvedOptions => _options;

    public override Tensor Loss(Batch batch) => Losses(batch).Total;

    /// <summary>The three terms of the loss and their weighted sum.</summary>
    internal (Tensor Total, Tensor NextToken, Tensor Latent, Tensor Kl) Losses(Batch batch)
    {
        var input = TeacherForcedInput(batch.Prefix, batch.Target); // (B, P + T - 1)
        var answer = Backbone.Hidden(input).narrow(1, PrefixLength - 1, TargetLength); // (B, T, C): at '=' and the T - 1 target inputs
        var nextToken = TargetLoss(Backbone.Logits(answer), batch.Target);
        var (latent, kl) = LatentTerms(answer, input.narrow(1, PrefixLength - 1, TargetLength));
        return (nextToken + _options.NextlatLatentWeight * latent + _options.NextlatKlWeight * kl, nextToken, latent, kl);
    }

    /// <summary>
    /// The latent terms over consecutive states (B, L, C) and the tokens at their positions (B, L): state i and
    /// token i + 1 predict state i + 1, whose value is a stop-gradient target.
    /// </summary>
    internal (Tensor Latent, Tensor Kl) LatentTerms(Tensor states, Tensor tokens)
    {
        long pairs = states.shape[1] - 1;
        var target = states.narrow(1, 1, pairs).detach(); // (B, L - 1, C)
        var predicted = _dynamics.forward(states.narrow(1, 0, pairs), tokens.narrow(1, 1, pairs)); // (B, L - 1, C)
        return (F.smooth_l1_loss(predicted, target), TokenKl(target, predicted));
    }

    /// <summary>KL(p(· | true state) ‖ p(· | predicted state)), the token distributions read through the unembedding, averaged over states.</summary>
    internal Tensor TokenKl(Tensor trueStates, Tensor predictedStates)
    {
        var truth = Backbone.Logits(trueStates).log_softmax(-1);
        return (truth.exp() * (truth - Backbone.Logits(predictedStates).log_softmax(-1))).sum(-1).mean();
    }

    /// <summary>ψ: the current hidden state and the next token's embedding -> the next hidden state, through one GELU layer of 4 x width.</summary>
    internal sealed class LatentDynamics : Module<Tensor, Tensor, Tensor>
    {
        private readonly Embedding token_embedding;
        private readonly Linear expand;
        private readonly Linear project;

        public LatentDynamics(int vocabularySize, int width) : base(nameof(LatentDynamics))
        {
            token_embedding = Embedding(vocabularySize, width);
            expand = Linear(2 * width, 4 * width);
            project = Linear(4 * width, width);
            RegisterComponents();
        }

        public override Tensor forward(Tensor hidden, Tensor nextToken) => // (B, L, C), (B, L) -> (B, L, C)
            project.forward(F.gelu(expand.forward(cat([hidden, token_embedding.forward(nextToken)], -1))));
    }
}
