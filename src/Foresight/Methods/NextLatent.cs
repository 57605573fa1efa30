using Foresight.Models;
using Foresight.Tasks;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Methods;

/// <summary>The latent-dynamics network ψ of next-latent prediction.</summary>
public enum NextlatDynamics
{
    /// <summary>A plain MLP from the current state and the next token to the next state.</summary>
    Mlp,

    /// <summary>The current state plus a zero-initialised MLP update (the paper's appendix C, as reimplemented).</summary>
    Residual,
}

/// <summary>Next-latent prediction's options: the weights of its two latent terms and its dynamics network.</summary>
public sealed record NextlatOptions : IMethodOptions
{
    [Option("weight of the smooth-L1 distance to the true next hidden state", Label = "latent {0}")]
    public double LatentWeight { get; init; } = 1;

    [Option("weight of the KL between the token distributions of the true and the predicted next hidden state", Label = "kl {0}")]
    public double KlWeight { get; init; } = 1;

    [Option("steps d the latent dynamics is rolled forward from each true hidden state, each step scored (1: the next state only)", Label = "horizon {0}")]
    public int Horizon { get; init; } = 1;

    [Option("the latent-dynamics network, mlp (state and next token through one GELU layer) or residual (the state plus a zero-initialised MLP update, as a public reimplementation reads the paper)",
        Label = "{0} dynamics")]
    public NextlatDynamics Dynamics { get; init; } = NextlatDynamics.Mlp;

    public void Validate()
    {
        OptionChecks.NonNegative(LatentWeight, "latent_weight");
        OptionChecks.NonNegative(KlWeight, "kl_weight");
        if (Horizon < 1) throw new ConfigError("horizon", $"must be at least 1 (1: predict the next hidden state only), got {Horizon}");
    }
}

/// <summary>
/// Next-latent prediction (NextLat, Teoh et al. 2025): next-token prediction plus a latent-dynamics
/// network that predicts the GPT's next hidden state from its current one and the next token,
/// ĥ(t+1) = ψ(h(t), x(t+1)), rolled forward d steps (ĥ(t+k) = ψ(ĥ(t+k-1), x(t+k))). The loss is
///   L = CE + λ_h · mean_k SmoothL1(ĥ(t+k), sg h(t+k)) + λ_KL · mean_k KL(softmax(W h(t+k)) ‖ softmax(sg W · ĥ(t+k))).
/// The targets are detached, so the gradient reaches the GPT through the starting state h(t) only: each
/// hidden state must hold what the later ones will need, a belief state. The KL scores the predicted state
/// through a frozen copy of the output layer, so it shapes states, not the unembedding.
/// The hidden states are the final LayerNorm's outputs (what the unembedding W reads). The latent
/// distance covers every position, prefix included; the KL the answer positions, where CE applies.
/// ψ is a plain MLP by default; --nextlat-dynamics residual is the paper's residual network, which at this
/// scale stops the model from learning even the lookups (see the README). ψ is used in training only;
/// decoding is ntp's.
/// </summary>
[Method("nextlat", "next-token prediction plus predicting the next hidden state from the current one and the next token", Options = typeof(NextlatOptions))]
public sealed class NextLatent : LeftToRightMethod
{
    private readonly Module<Tensor, Tensor, Tensor> _dynamics;
    private readonly nn.Module _model;
    private readonly NextlatOptions _options;

    public NextLatent(MethodContext context) : base(context)
    {
        context.RequireAllLossPositions("nextlat adds a latent loss over every answer position");
        _options = context.OptionsOf<NextlatOptions>();
        int inputLength = PrefixLength + TargetLength - 1;
        if (_options.Horizon >= inputLength)
            throw new ConfigError("horizon", $"must be below the {inputLength} positions of a teacher-forced input, got {_options.Horizon}");
        _dynamics = _options.Dynamics == NextlatDynamics.Residual
            ? new ResidualDynamics(Backbone.VocabularySize, Backbone.Width)
            : new MlpDynamics(Backbone.VocabularySize, Backbone.Width);
        _model = new ModuleGroup(("gpt", Backbone), ("dynamics", _dynamics));
    }

    public override nn.Module Model => _model;

    public override NextlatOptions ResolvedOptions => _options;

    public override Tensor Loss(Batch batch) => Losses(batch).Total;

    /// <summary>The three terms of the loss and their weighted sum.</summary>
    internal (Tensor Total, Tensor NextToken, Tensor Latent, Tensor Kl) Losses(Batch batch)
    {
        var input = TeacherForcedInput(batch.Prefix, batch.Target); // (B, P + T - 1)
        var states = Backbone.Hidden(input); // (B, P + T - 1, C)
        var answer = states.narrow(1, PrefixLength - 1, TargetLength); // at '=' and the T - 1 target inputs
        var nextToken = TargetLoss(Backbone.Logits(answer), batch.Target);
        var (latent, kl) = LatentTerms(states, input, PrefixLength - 1);
        return (nextToken.Plus(latent.Times(_options.LatentWeight)).Plus(kl.Times(_options.KlWeight)), nextToken, latent, kl);
    }

    /// <summary>
    /// The latent terms over the states (B, L, C) of the tokens (B, L): from every state i, the dynamics rolled
    /// k = 1..d steps with the true tokens i + 1..i + k predicts state i + k, a stop-gradient target. Each is averaged
    /// over its positions, then over k; the KL counts only target states from <paramref name="klFrom"/> on.
    /// </summary>
    internal (Tensor Latent, Tensor Kl) LatentTerms(Tensor states, Tensor tokens, int klFrom)
    {
        long length = states.shape[1];
        int horizon = _options.Horizon;
        var predicted = states;
        Tensor latent = zeros(1), kl = zeros(1);
        for (int k = 1; k <= horizon; k++)
        {
            long count = length - k; // predictions of states k..L-1, from states 0..L-1-k
            predicted = _dynamics.forward(predicted.narrow(1, 0, count), tokens.narrow(1, k, count)); // (B, count, C)
            var target = states.narrow(1, k, count).detach();
            latent = latent.Plus(F.smooth_l1_loss(predicted, target));
            int first = Math.Max(klFrom - k, 0); // the first prediction whose target state is an answer state
            kl = kl.Plus(TokenKl(target.narrow(1, first, count - first), predicted.narrow(1, first, count - first)));
        }
        return (latent.Over(horizon).squeeze(), kl.Over(horizon).squeeze());
    }

    /// <summary>
    /// KL(p(· | true state) ‖ p(· | predicted state)), averaged over states: the true distribution is a
    /// target, and the predicted one is read through the output layer frozen.
    /// </summary>
    internal Tensor TokenKl(Tensor trueStates, Tensor predictedStates)
    {
        var truth = Backbone.Logits(trueStates).log_softmax(-1).detach();
        var predicted = F.linear(predictedStates, Backbone.OutputWeight.detach()).log_softmax(-1);
        return (truth.exp() * (truth - predicted)).sum(-1).mean();
    }

    /// <summary>ψ as a plain MLP: [h(t), e(x(t+1))] -> one GELU layer of 4 x width -> the next hidden state.</summary>
    internal sealed class MlpDynamics : Module<Tensor, Tensor, Tensor>
    {
        private readonly Embedding token_embedding;
        private readonly Linear expand;
        private readonly Linear project;

        public MlpDynamics(int vocabularySize, int width) : base(nameof(MlpDynamics))
        {
            token_embedding = Embedding(vocabularySize, width);
            expand = Linear(2 * width, 4 * width);
            project = Linear(4 * width, width);
            RegisterComponents();
        }

        public override Tensor forward(Tensor hidden, Tensor nextToken) => // (B, L, C), (B, L) -> (B, L, C)
            project.forward(F.gelu(expand.forward(cat([hidden, token_embedding.forward(nextToken)], -1))));
    }

    /// <summary>
    /// ψ as a residual update, the paper's appendix C network as a public reimplementation builds it: LayerNorm,
    /// a three-layer GELU MLP of width C, plus the current state; the last layer starts at zero, so ψ starts as
    /// "the state does not change", and the latent distance then pulls each state straight toward the next.
    /// </summary>
    internal sealed class ResidualDynamics : Module<Tensor, Tensor, Tensor>
    {
        private readonly Embedding token_embedding;
        private readonly LayerNorm input_norm;
        private readonly Linear layer1;
        private readonly Linear layer2;
        private readonly Linear layer3;

        public ResidualDynamics(int vocabularySize, int width) : base(nameof(ResidualDynamics))
        {
            token_embedding = Embedding(vocabularySize, width);
            input_norm = LayerNorm(2 * width);
            layer1 = Linear(2 * width, width);
            layer2 = Linear(width, width);
            layer3 = Linear(width, width);
            RegisterComponents();
            using var _ = no_grad();
            layer3.weight!.zero_();
            layer3.bias!.zero_();
        }

        public override Tensor forward(Tensor hidden, Tensor nextToken) // (B, L, C), (B, L) -> (B, L, C)
        {
            var x = input_norm.forward(cat([hidden, token_embedding.forward(nextToken)], -1));
            return hidden.Plus(layer3.forward(F.gelu(layer2.forward(F.gelu(layer1.forward(x))))));
        }
    }
}
