namespace Foresight.Methods;

/// <summary>How a masked-diffusion model fills in its answer (see <see cref="MaskedDiffusion"/>).</summary>
public enum DiffusionSampler
{
    /// <summary>LLaDA: at each step commit the most confident masked positions, keep the rest masked.</summary>
    LowConfidence,

    /// <summary>MDLM: going from time t to s, each masked position is revealed with probability (t - s) / t.</summary>
    Ancestral,
}

/// <summary>How the masked-diffusion loss weights each masked token.</summary>
public enum DiffusionWeighting
{
    /// <summary>1/t, the continuous-time ELBO of MDLM and LLaDA.</summary>
    Elbo,

    /// <summary>1 for every masked token, averaged over them (BERT's masked-LM loss): lower variance, not a likelihood bound.</summary>
    Uniform,

    /// <summary>
    /// 1 - t, averaged over the masked tokens: HKUNLP's "linear" time reweighting (their T - t over T discrete steps).
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

/// <summary>The latent-dynamics network ψ of next-latent prediction (see <see cref="NextLatent"/>).</summary>
public enum NextlatDynamics
{
    /// <summary>A plain MLP from the current state and the next token to the next state.</summary>
    Mlp,

    /// <summary>The current state plus a zero-initialised MLP update (the paper's appendix C, as reimplemented).</summary>
    Residual,
}

/// <summary>Hyper-parameters that only some methods read; all of them are recorded in config.json.</summary>
/// <param name="DiffusionSteps">Denoising steps; 0 means one per target token. 1 is greedy one-shot decoding.</param>
/// <param name="DiffusionWeighting">Training loss weight of a masked token; decoding ignores it.</param>
/// <param name="DiffusionShift">
/// Read token i's prediction from position i - 1, as HKUNLP's MDM (diffusion-vs-ar) and DiffuLLaMA do,
/// instead of from position i itself (MDLM, LLaDA).
/// </param>
/// <param name="DiffusionNeighbours">
/// Predict token i from both positions beside it: the sum of the logits read at i - 1 (the shifted
/// readout) and, through a learned map, at i + 1. Each neighbour then looks its token up in one hop,
/// forward (child of the previous node) or backward (parent of the next). Not MDLM / LLaDA: a diagnostic.
/// </param>
/// <param name="DiffusionAttention">The diffusion model's attention mask; the noise, loss and samplers stay the same.</param>
/// <param name="DiffusionTemperature">Gumbel temperature of the token picked at each masked position; 0 picks the argmax.</param>
/// <param name="MtpHeads">Multi-token prediction: output heads; head k predicts the token k steps ahead (head 1 is next-token prediction).</param>
/// <param name="NextlatLatentWeight">Next-latent prediction: weight of the distance between the predicted and the true (stop-gradient) next hidden state.</param>
/// <param name="NextlatKlWeight">Next-latent prediction: weight of the KL between the token distributions read from the true and the predicted next hidden state.</param>
/// <param name="NextlatDynamics">Next-latent prediction: the latent-dynamics network ψ.</param>
/// <param name="NextlatHorizon">Next-latent prediction: steps d the latent dynamics is rolled forward from each true state (1: the next state only).</param>
/// <param name="GrpoInit">GRPO: the run directory whose model it starts from (absolute path).</param>
/// <param name="GrpoGroupSize">GRPO: answers sampled per prompt; advantages are normalized within each group.</param>
/// <param name="GrpoTemperature">GRPO: sampling temperature of the answers.</param>
/// <param name="GrpoClip">GRPO: the policy ratio is clipped to [1 - ε, 1 + ε].</param>
/// <param name="GrpoKlWeight">GRPO: weight β of the KL penalty to the initial model.</param>
/// <param name="DiffusionFocus">
/// Diffusion: γ of HKUNLP's adaptive token reweighting (their "subgoal imbalance" fix): each masked token's
/// loss is multiplied by (1 - p)^γ, p the probability the model gives the true token, so hard tokens
/// weigh more (a focal loss). 0 turns it off.
/// </param>
public sealed record MethodOptions(
    DiffusionSampler DiffusionSampler = DiffusionSampler.LowConfidence,
    int DiffusionSteps = 0,
    double DiffusionTemperature = 0,
    DiffusionWeighting DiffusionWeighting = DiffusionWeighting.Elbo,
    bool DiffusionShift = false,
    DiffusionAttention DiffusionAttention = DiffusionAttention.Bidirectional,
    int MtpHeads = 4,
    double NextlatLatentWeight = 1,
    double NextlatKlWeight = 1,
    string? GrpoInit = null,
    int GrpoGroupSize = 8,
    double GrpoTemperature = 1,
    double GrpoClip = 0.2,
    double GrpoKlWeight = 0.04,
    double DiffusionFocus = 0,
    int NextlatHorizon = 1,
    NextlatDynamics NextlatDynamics = NextlatDynamics.Mlp,
    bool DiffusionNeighbours = false)
{
    public void Validate()
    {
        if (DiffusionSteps < 0) throw new UserError($"--diffusion-steps must not be negative (0: one step per target token), got {DiffusionSteps}");
        NonNegative(DiffusionTemperature, "--diffusion-temperature", " (0: argmax)");
        if (MtpHeads < 1) throw new UserError($"--mtp-heads must be at least 1 (1: plain next-token prediction), got {MtpHeads}");
        NonNegative(NextlatLatentWeight, "--nextlat-latent-weight", "");
        NonNegative(NextlatKlWeight, "--nextlat-kl-weight", "");
        if (NextlatHorizon < 1) throw new UserError($"--nextlat-horizon must be at least 1 (1: predict the next hidden state only), got {NextlatHorizon}");
        if (GrpoGroupSize < 2) throw new UserError($"--grpo-group-size must be at least 2 (advantages compare the answers of one prompt), got {GrpoGroupSize}");
        if (!(GrpoTemperature > 0) || double.IsInfinity(GrpoTemperature)) throw new UserError($"--grpo-temperature must be a positive number, got {GrpoTemperature}");
        if (!(GrpoClip > 0) || double.IsInfinity(GrpoClip)) throw new UserError($"--grpo-clip must be a positive number, got {GrpoClip}");
        NonNegative(GrpoKlWeight, "--grpo-kl-weight", "");
        NonNegative(DiffusionFocus, "--diffusion-focus", " (0: off)");
        if (DiffusionShift && DiffusionNeighbours)
            throw new UserError("--diffusion-neighbours already reads each token at the position before it (and after it): drop --diffusion-shift");
    }

    private static void NonNegative(double value, string flag, string note)
    {
        if (!(value >= 0) || double.IsInfinity(value)) throw new UserError($"{flag} must be a finite number >= 0{note}, got {value}");
    }
}
