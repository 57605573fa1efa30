using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Methods;

/// <summary>GRPO's options: the run it starts from, its groups, sampling temperature, clip and KL weight.</summary>
public sealed record GrpoOptions : IMethodOptions, IStartsFromRun
{
    [Option("the finished run (of a method that writes one token at a time) whose model it fine-tunes; the task and model are that run's unless their flags are given", Flag = "--init", IsPath = true)]
    public string? Init { get; init; }

    [Option("answers sampled per prompt; advantages are normalized within each group", Label = "group {0}")]
    public int GroupSize { get; init; } = 8;

    [Option("sampling temperature", Label = "temperature {0}")]
    public double Temperature { get; init; } = 1;

    [Option("clip range ε of the policy ratio", Label = "clip {0}")]
    public double Clip { get; init; } = 0.2;

    [Option("weight β of the KL penalty to the initial model (0: none)", Label = "kl {0}")]
    public double KlWeight { get; init; } = 0.04;

    public void Validate()
    {
        if (GroupSize < 2) throw new ConfigError("group_size", $"must be at least 2 (advantages compare the answers of one prompt), got {GroupSize}");
        OptionChecks.Positive(Temperature, "temperature");
        OptionChecks.Positive(Clip, "clip");
        OptionChecks.NonNegative(KlWeight, "kl_weight");
    }
}

/// <summary>
/// Group relative policy optimization (Shao et al. 2024, DeepSeekMath) with the task's verifier as the
/// reward: RL with a verifiable reward, started from a saved autoregressive run (--init). For each prompt
/// of a batch, G answers are sampled from the current model; the reward is 1 when the verifier accepts an
/// answer, else 0; the advantage of an answer is its reward minus the group's mean, over the group's
/// standard deviation, so only prompts whose answers disagree carry a signal. The loss is the clipped
/// surrogate plus β times the k3 estimate of the KL to the initial model, averaged over tokens:
///   L = -mean_t [ min(ρ_t A, clip(ρ_t, 1 - ε, 1 + ε) A) - β (π_ref/π - log(π_ref/π) - 1) ],  ρ_t = π/π_old.
/// Each batch of answers is used for one update, so π_old = π and the clip does not bind (the update is
/// the group-baselined policy gradient); it is kept in the objective as the paper writes it. The reward
/// never reads the target: the verifier checks the answer against the prompt alone.
/// </summary>
[Method("grpo", "RL fine-tuning of a saved run (--init) with the verifier as reward: group-normalized advantages, clipped policy gradient, KL to the start",
    BatchSize = 32, LearningRate = 1e-4, Options = typeof(GrpoOptions))]
public sealed class Grpo : ITrainingMethod, IFineTuning, IStepStatistics
{
    private readonly ITrainingMethod _policy;
    private readonly ITrainingMethod _reference;
    private readonly IStepwiseDecoder _writer;
    private readonly IVerifiableTask _task;
    private readonly GrpoOptions _options;

    public Grpo(MethodContext context)
    {
        context.RequireAllLossPositions("grpo is rewarded for whole answers, not trained on single target positions");
        _options = context.OptionsOf<GrpoOptions>();
        _task = context.Task as IVerifiableTask ?? throw new UserError($"grpo needs a task with a verifier; {context.Task.Description} has none");
        var start = context.Start ?? throw new ConfigError("init", "is missing: grpo fine-tunes a saved run, give its directory");
        _policy = start.Load();
        string? refused = _policy is not IStepwiseDecoder writer
            ? $"'{start.Path}' cannot start this grpo run: it is a {start.Method} run; grpo fine-tunes a method that writes one token at a time ({MethodRegistry.Having<IStepwiseDecoder>()})"
            : writer.VariableOrder is { } why ? $"cannot be fine-tuned with grpo: {why}" : null;
        if (refused is not null)
        {
            _policy.Dispose();
            throw new ConfigError("init", refused);
        }
        _writer = (IStepwiseDecoder)_policy;
        _reference = start.Load();
        foreach (var parameter in _reference.Model.parameters()) parameter.requires_grad = false;
    }

    public ITrainingMethod Policy => _policy;

    /// <summary>reward: mean over the batch's answers (the sampled policy's accuracy); signal: share of prompts whose answers disagree, the only ones with a gradient.</summary>
    public IReadOnlyDictionary<string, double> LastStep { get; private set; } = new Dictionary<string, double>();
    public nn.Module Model => _policy.Model;
    public int TokensPerExample => _options.GroupSize * _policy.TokensPerExample;
    public IMethodOptions ResolvedOptions => _options;

    public Tensor Decode(Tensor prefix) => _policy.Decode(prefix);
    public Tensor Sample(Tensor prefix, double temperature, Generator generator) => _policy.Sample(prefix, temperature, generator);
    public Tensor TeacherForced(Batch batch) => _policy.TeacherForced(batch);

    public Tensor Loss(Batch batch)
    {
        int group = _options.GroupSize;
        var prompts = batch.Prefix.repeat_interleave(group, 0); // (B G, P), a prompt's answers adjacent
        var answers = Sample(prompts, batch.NoiseSeed); // (B G, T), writing order
        var rewards = Rewards(batch, answers); // (B G)
        var grouped = rewards.view(-1, group); // (B, G)
        var advantages = GroupAdvantages(grouped).view(-1, 1); // (B G, 1)
        LastStep = new Dictionary<string, double>
        {
            ["reward"] = rewards.mean().item<float>(),
            ["signal"] = grouped.std(1).Above(0).to_type(ScalarType.Float32).mean().item<float>(),
        };

        var logProbs = TokenLogProbs(_writer, prompts, answers); // (B G, T)
        Tensor referenceLogProbs;
        using (no_grad()) referenceLogProbs = TokenLogProbs((IStepwiseDecoder)_reference, prompts, answers);
        return Objective(logProbs, logProbs.detach(), referenceLogProbs, advantages, _options.Clip, _options.KlWeight);
    }

    /// <summary>
    /// The negated GRPO objective, averaged over tokens (every answer has T tokens): (B G, T) log-probabilities
    /// under the model being trained, the model that sampled and the reference; (B G, 1) advantages.
    /// </summary>
    internal static Tensor Objective(Tensor logProbs, Tensor samplingLogProbs, Tensor referenceLogProbs, Tensor advantages, double clip, double klWeight)
    {
        var ratio = (logProbs - samplingLogProbs).exp();
        var surrogate = minimum(ratio * advantages, ratio.Clamp(1 - clip, 1 + clip) * advantages);
        var logReferenceRatio = referenceLogProbs - logProbs;
        var kl = (logReferenceRatio.exp() - logReferenceRatio).Minus(1); // k3: unbiased, never negative
        return -(surrogate - kl.Times(klWeight)).mean();
    }

    /// <summary>(prompts, G) rewards: each minus its group's mean, over the group's standard deviation (+ 1e-4, as groups that all agree have none).</summary>
    internal static Tensor GroupAdvantages(Tensor rewards) =>
        (rewards - rewards.mean([1], keepdim: true)) / rewards.std(1, keepdim: true).Plus(1e-4);

    /// <summary>G answers per prompt from the current model at the GRPO temperature, (B G, T) in writing order; seeded per step, so a resumed run samples the same.</summary>
    private Tensor Sample(Tensor prompts, long seed)
    {
        using var _ = no_grad();
        using var generator = new Generator((ulong)seed);
        return StepwiseWriting.Sample(_writer, prompts, _options.Temperature, generator);
    }

    /// <summary>1 where the verifier accepts the answer (put back in task order), else 0: (B G).</summary>
    private Tensor Rewards(Batch batch, Tensor answers)
    {
        var examples = batch.Examples();
        var taskOrder = StepwiseWriting.ToAnswers(answers, _writer.WritingOrder);
        int group = _options.GroupSize;
        var rewards = new float[taskOrder.Length];
        for (int i = 0; i < rewards.Length; i++)
            rewards[i] = _task.Accepts(examples[i / group], taskOrder[i]) ? 1f : 0f;
        return tensor(rewards);
    }

    /// <summary>log π(token) of each written token at the sampling temperature: (B, T).</summary>
    private Tensor TokenLogProbs(IStepwiseDecoder model, Tensor prompts, Tensor answers) =>
        model.WrittenLogits(prompts, answers).Over(_options.Temperature).log_softmax(-1).gather(-1, answers.unsqueeze(-1)).squeeze(-1);

    public void Dispose()
    {
        _policy.Dispose();
        _reference.Dispose();
    }
}
