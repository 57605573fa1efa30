using Foresight.Methods;
using Foresight.Models;
using Foresight.Tasks;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Tests;

/// <summary>The masked-diffusion method: its noise, its loss weighting and its samplers.</summary>
public sealed class DiffusionTests
{
    private static readonly PathStarTask Task = new(2, 4, 20);

    private static MaskedDiffusion Build(DiffusionSampler sampler = DiffusionSampler.LowConfidence, int steps = 0, double temperature = 0,
        DiffusionWeighting weighting = DiffusionWeighting.Elbo, bool shift = false, DiffusionAttention attention = DiffusionAttention.Bidirectional,
        bool neighbours = false)
    {
        manual_seed(0);
        return (MaskedDiffusion)MethodRegistry.Create("diffusion", new MethodContext(Task, new ModelSize(1, 32, 2),
            Options: new DiffusionOptions
            {
                Sampler = sampler, Steps = steps, Temperature = temperature, Weighting = weighting, Shift = shift, Attention = attention, Neighbours = neighbours,
            }));
    }

    private static Batch Data(int count, long noiseSeed = 1) =>
        TokenDataset.Generate(Task, count, SeededRandom.For(0, "diffusion")).Slice(0, count) with { NoiseSeed = noiseSeed };

    [Fact]
    public void Each_target_token_is_masked_with_probability_t_and_t_is_stratified_over_the_batch()
    {
        using var method = Build();
        var (time, masked) = method.Noise(Data(4000));
        float[] t = time.data<float>().ToArray();
        Assert.All(t, v => Assert.InRange(v, 1e-6f, 1f));
        var sorted = t.Order().ToArray();
        for (int i = 1; i < sorted.Length; i++) Assert.Equal(1.0 / 4000, sorted[i] - sorted[i - 1], 5); // one per stratum

        // Bucket examples by t: the share of masked tokens in each bucket is the bucket's mean t.
        var rate = masked.to_type(ScalarType.Float32).mean([1]).data<float>().ToArray();
        for (double low = 0; low < 1; low += 0.2)
        {
            var bucket = Enumerable.Range(0, t.Length).Where(i => t[i] > low && t[i] <= low + 0.2).ToList();
            Assert.Equal(bucket.Average(i => (double)t[i]), bucket.Average(i => (double)rate[i]), 1.5e-2);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Loss_is_cross_entropy_on_masked_tokens_weighted_by_one_over_t_per_target_token_or_uniformly_linearly_or_focused(bool shift)
    {
        using var method = Build(shift: shift);
        var batch = Data(64);
        var (time, masked) = method.Noise(batch);
        var input = cat([batch.Prefix, batch.Target.masked_fill(masked, Task.FillerToken)], 1); // the prefix is never masked
        var logits = ((Gpt)method.Model).forward(input).narrow(1, shift ? Task.PrefixLength - 1 : Task.PrefixLength, Task.TargetLength); // shifted: token i read at i - 1
        var perToken = F.cross_entropy(logits.flatten(0, 1), batch.Target.flatten(), reduction: nn.Reduction.None).view(64, Task.TargetLength);
        double expected = 0, unweighted = 0, focused = 0, linear = 0;
        int maskedCount = 0;
        for (int i = 0; i < 64; i++)
            for (int j = 0; j < Task.TargetLength; j++)
                if (masked[i, j].item<bool>())
                {
                    expected += perToken[i, j].item<float>() / time[i].item<float>();
                    unweighted += perToken[i, j].item<float>();
                    linear += perToken[i, j].item<float>() * (1 - time[i].item<float>());
                    double loss = perToken[i, j].item<float>();
                    focused += (1 - Math.Exp(-loss)) * loss / time[i].item<float>(); // γ = 1
                    maskedCount++;
                }
        expected /= 64 * Task.TargetLength;

        Assert.Equal(expected, method.Loss(batch).item<float>(), 4);
        using (var uniform = Build(weighting: DiffusionWeighting.Uniform, shift: shift)) // same seed, same weights
            Assert.Equal(unweighted / maskedCount, uniform.Loss(batch).item<float>(), 4);
        using (var linearly = Build(weighting: DiffusionWeighting.Linear, shift: shift))
            Assert.Equal(linear / maskedCount, linearly.Loss(batch).item<float>(), 4);
        manual_seed(0);
        using (var focus = (MaskedDiffusion)MethodRegistry.Create("diffusion", new MethodContext(Task, new ModelSize(1, 32, 2),
                   Options: new DiffusionOptions { Shift = shift, Focus = 1 })))
            Assert.Equal(focused / (64 * Task.TargetLength), focus.Loss(batch).item<float>(), 4);
        Assert.Equal(method.Loss(batch).item<float>(), method.Loss(batch).item<float>()); // same noise seed, same loss
        Assert.NotEqual(method.Loss(batch).item<float>(), method.Loss(batch with { NoiseSeed = 2 }).item<float>());
    }

    [Fact]
    public void Neighbour_readout_adds_the_logits_read_before_each_token_to_those_read_through_the_backward_map_after_it()
    {
        using var method = Build(neighbours: true);
        var parameters = method.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Contains("backward_readout.weight", parameters.Keys); // trained and saved with the GPT
        var gpt = (Gpt)method.Model.named_children().Single(c => c.name == "gpt").module;
        var batch = Data(16);
        var (time, masked) = method.Noise(batch);
        var input = cat([batch.Prefix, batch.Target.masked_fill(masked, Task.FillerToken)], 1);
        var hidden = gpt.Hidden(input); // (B, P + T, C)
        int p = Task.PrefixLength, t = Task.TargetLength;
        var backwardMap = parameters["backward_readout.weight"]; // (C, C)
        var logits = new List<Tensor>();
        for (int i = 0; i < t; i++)
        {
            var token = gpt.Logits(hidden.select(1, p + i - 1)); // read at the position before token i
            if (i < t - 1) token = token + gpt.Logits(hidden.select(1, p + i + 1).matmul(backwardMap.t())); // and after it
            logits.Add(token);
        }
        var perToken = F.cross_entropy(stack(logits, 1).flatten(0, 1), batch.Target.flatten(), reduction: nn.Reduction.None).view(16, t);
        double expected = (perToken * masked / time.unsqueeze(1)).sum().item<float>() / (16 * t);
        Assert.Equal(expected, method.Loss(batch).item<float>(), 4);

        var error = Assert.Throws<ConfigError>(() => MethodOptionSet.Validated("diffusion", new DiffusionOptions { Shift = true, Neighbours = true }));
        Assert.Equal("diffusion.neighbours", error.Field);
        Assert.Contains("drop diffusion.shift", error.Message);
    }

    [Theory]
    [InlineData(DiffusionSampler.LowConfidence, 0)]
    [InlineData(DiffusionSampler.LowConfidence, 1)]
    [InlineData(DiffusionSampler.LowConfidence, 3)]
    [InlineData(DiffusionSampler.LowConfidence, 7)]
    [InlineData(DiffusionSampler.Ancestral, 2)]
    [InlineData(DiffusionSampler.Ancestral, 4)]
    [InlineData(DiffusionSampler.LowConfidence, 0, true)]
    [InlineData(DiffusionSampler.LowConfidence, 0, false, true)]
    [InlineData(DiffusionSampler.Ancestral, 3, false, true)]
    [InlineData(DiffusionSampler.TopKRemasking, 0)]
    [InlineData(DiffusionSampler.TopKRemasking, 3, true)]
    public void Samplers_leave_the_prefix_alone_and_end_with_no_mask_left(DiffusionSampler sampler, int steps, bool shift = false, bool neighbours = false)
    {
        using var method = Build(sampler, steps, shift: shift, neighbours: neighbours);
        var batch = Data(32);
        var prefix = batch.Prefix.clone();
        var (answer, commitStep) = method.Sample(batch.Prefix);

        Assert.True(batch.Prefix.eq(prefix).all().item<bool>());
        Assert.Equal(ScalarType.Int64, commitStep.dtype);
        Assert.Equal([32, Task.TargetLength], answer.shape);
        Assert.False(answer.eq(Task.FillerToken).any().item<bool>());
        Assert.True((commitStep >= 0).all().item<bool>());
        Assert.True((commitStep < method.Steps).all().item<bool>());
        if (sampler == DiffusionSampler.LowConfidence)
        {
            // The count schedule: after step s, floor((s + 1) T / K) tokens are committed in every row.
            for (int s = 0; s < method.Steps; s++)
            {
                long expected = (long)(s + 1) * Task.TargetLength / method.Steps;
                Assert.True((commitStep <= s).sum(1).eq(expected).all().item<bool>(), $"step {s}");
            }
        }
        Assert.True(method.Decode(batch.Prefix).eq(answer).all().item<bool>()); // deterministic
    }

    private static MaskedDiffusion Build(DiffusionOptions options)
    {
        manual_seed(0);
        return (MaskedDiffusion)MethodRegistry.Create("diffusion", new MethodContext(Task, new ModelSize(1, 32, 2), Options: options));
    }

    [Fact]
    public void Discrete_time_masks_at_one_of_T_rates_and_weighs_each_masked_token_by_T_minus_i_with_the_focal_alpha_over_the_masked_count()
    {
        const int T = 5;
        using var method = Build(new DiffusionOptions { TimeSteps = T, Weighting = DiffusionWeighting.Linear, Shift = true, Focus = 1, FocusScale = 0.25 });
        var batch = Data(3000);
        var (time, masked) = method.Noise(batch);
        float[] t = time.data<float>().ToArray();
        Assert.Equal(Enumerable.Range(1, T).Select(i => (float)i / T), t.Distinct().Order()); // (i + 1) / T
        Assert.All(t.GroupBy(v => v), g => Assert.InRange(g.Count(), 3000 / T - 120, 3000 / T + 120)); // i uniform
        var rate = masked.to_type(ScalarType.Float32).mean([1]).data<float>().ToArray();
        foreach (var g in Enumerable.Range(0, t.Length).GroupBy(i => t[i]))
            Assert.Equal(g.Key, g.Average(i => (double)rate[i]), 2e-2);

        var small = Data(48);
        (time, masked) = method.Noise(small);
        var input = cat([small.Prefix, small.Target.masked_fill(masked, Task.FillerToken)], 1);
        var logits = ((Gpt)method.Model).forward(input).narrow(1, Task.PrefixLength - 1, Task.TargetLength);
        var perToken = F.cross_entropy(logits.flatten(0, 1), small.Target.flatten(), reduction: nn.Reduction.None).view(48, Task.TargetLength);
        double sum = 0;
        int count = 0;
        for (int i = 0; i < 48; i++)
            for (int j = 0; j < Task.TargetLength; j++)
                if (masked[i, j].item<bool>())
                {
                    double loss = perToken[i, j].item<float>(), level = Math.Round(time[i].item<float>() * T) - 1;
                    sum += 0.25 * (1 - Math.Exp(-loss)) * loss * (T - level); // α (1 - p)^γ CE, times T - i
                    count++;
                }
        Assert.Equal(sum / count, method.Loss(small).item<float>(), 4);
        using var elbo = Build(new DiffusionOptions { TimeSteps = T });
        Assert.True(elbo.Noise(small).Masked.eq(masked).all().item<bool>()); // the same draws whatever the weights
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_full_sequence_variant_masks_the_prompt_at_the_same_rate_and_scores_every_masked_token(bool shift)
    {
        using var method = Build(new DiffusionOptions { NoisePrompt = true, Shift = shift });
        var batch = Data(2000);
        var (time, masked) = method.Noise(batch);
        int p = Task.PrefixLength, length = p + Task.TargetLength;
        Assert.Equal([2000, length], masked.shape);
        var promptRate = masked.narrow(1, 0, p).to_type(ScalarType.Float32).mean().item<float>();
        Assert.Equal(time.mean().item<float>(), promptRate, 2); // the prompt is masked as often as the answer

        var small = Data(24);
        (time, masked) = method.Noise(small);
        var clean = cat([small.Prefix, small.Target], 1);
        var all = ((Gpt)method.Model).forward(clean.masked_fill(masked, Task.FillerToken)); // (B, P + T, V)
        double sum = 0;
        for (int i = 0; i < 24; i++)
            for (int j = 0; j < length; j++)
                if (masked[i, j].item<bool>())
                {
                    var read = all[i, shift ? Math.Max(j - 1, 0) : j]; // shifted: token j read at j - 1, the first at its own place
                    sum += F.cross_entropy(read.unsqueeze(0), clean[i, j].unsqueeze(0)).item<float>() / time[i].item<float>();
                }
        Assert.Equal(sum / (24 * length), method.Loss(small).item<float>(), 4);

        var error = Assert.Throws<ConfigError>(() => MethodOptionSet.Validated("diffusion", new DiffusionOptions { NoisePrompt = true, Attention = DiffusionAttention.Causal }));
        Assert.Equal("diffusion.noise_prompt", error.Field);
    }

    [Fact]
    public void Top_k_remasking_rewrites_every_position_and_remasks_the_least_confident_share_so_one_step_is_the_one_shot_argmax()
    {
        var batch = Data(32);
        using var method = Build(new DiffusionOptions { Sampler = DiffusionSampler.TopKRemasking });
        var oneShot = method.Sample(batch.Prefix, DiffusionSampler.LowConfidence, 1).Answer;
        Assert.True(method.Sample(batch.Prefix, DiffusionSampler.TopKRemasking, 1).Answer.eq(oneShot).all().item<bool>());
        // With K = T the schedule remasks T - 1 - s tokens after step s: the last step commits one position, so some commit at K - 1.
        var (answer, commitStep) = method.Sample(batch.Prefix, DiffusionSampler.TopKRemasking, Task.TargetLength);
        Assert.False(answer.eq(Task.FillerToken).any().item<bool>());
        Assert.True(commitStep.eq(Task.TargetLength - 1).any(1).all().item<bool>());
    }

    [Fact]
    public void Gumbel_temperature_samples_other_tokens_but_keeps_the_prefix_and_fills_every_mask()
    {
        var batch = Data(64);
        using var greedy = Build();
        using var cold = Build(temperature: 1e-4);
        using var hot = Build(temperature: 5);
        var argmax = greedy.Decode(batch.Prefix);
        var (answer, _) = hot.Sample(batch.Prefix);

        Assert.True(cold.Decode(batch.Prefix).eq(argmax).all().item<bool>()); // tau -> 0 is the argmax
        Assert.True(answer.ne(argmax).any().item<bool>());
        Assert.False(answer.eq(Task.FillerToken).any().item<bool>());
        Assert.True(hot.Decode(batch.Prefix).eq(answer).all().item<bool>()); // the noise is seeded
        Assert.Equal("diffusion.temperature must be a finite number >= 0 (0: argmax), got -1",
            Assert.ThrowsAny<UserError>(() => Build(temperature: -1)).Message);
    }

    [Fact]
    public void Steps_probe_sweeps_both_samplers_over_K_and_its_own_K_matches_the_evaluator()
    {
        using var method = Build();
        using var data = new TokenDataset(Task, Probes.ProbeData.Examples(Task, 90, seed: 3));
        var result = Probes.DecodeStepsProbe.Run(method, Task, data, batchSize: 40);

        Assert.Equal([1, 2, 4, 5], Probes.DecodeStepsProbe.Budgets(Task)); // K = 1, 2, 5 and T = 4
        Assert.Equal(["low-confidence", "ancestral", "top-k-remasking"], result.Points.Select(p => p.Sampler).Distinct());
        Assert.Equal(12, result.Points.Count);
        var own = result.Points.Single(p => p is { Sampler: "low-confidence", Steps: 4 });
        var metrics = Evaluation.Evaluator.Evaluate(method, Task, data);
        Assert.Equal(metrics.ExactMatch, own.ExactMatch);
        Assert.Equal(metrics.FirstDecisionAccuracy, own.FirstDecisionAccuracy);
        Assert.Equal((metrics.ExactMatchLow95, metrics.ExactMatchHigh95), (own.ExactMatchLow95, own.ExactMatchHigh95));
        Assert.Equal(new DiffusionOptions { Sampler = DiffusionSampler.LowConfidence, Steps = 4 }, method.ResolvedOptions); // what summary.json records
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Decode_order_probe_averages_commit_steps_and_scores_each_position(int steps)
    {
        using var method = Build(DiffusionSampler.LowConfidence, steps);
        var examples = Probes.ProbeData.Examples(Task, 60, seed: 2);
        var result = Probes.DecodeOrderProbe.Run(method, Task, examples, batchSize: 25);

        Assert.Equal(60, result.Examples);
        Assert.Equal(method.Steps, result.Steps);
        // One token per step: every row commits positions at steps 0..T-1 once each; one step: everything at 0.
        double expectedSum = steps == 1 ? 0 : Task.TargetLength * (Task.TargetLength - 1) / 2.0;
        Assert.Equal(expectedSum, result.MeanCommitStep.Sum(), 9);
        using var data = new TokenDataset(Task, examples);
        Assert.Equal(Evaluation.Evaluator.Evaluate(method, Task, data).PerPositionAccuracy, result.AccuracyByPosition);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Teacher_forced_prediction_of_a_position_sees_only_earlier_targets(bool shift)
    {
        using var method = Build(shift: shift);
        var batch = Data(16);
        var before = method.TeacherForced(batch);
        var changed = batch.Target.clone();
        changed[TensorIndex.Colon, 2] = (changed[TensorIndex.Colon, 2] + 1) % Task.Nodes;
        var after = method.TeacherForced(batch with { Target = changed });
        Assert.True(before.narrow(1, 0, 3).eq(after.narrow(1, 0, 3)).all().item<bool>());
    }

    [Fact]
    public void Noise_is_a_function_of_the_batch_noise_seed()
    {
        using var method = Build();
        var (time, masked) = method.Noise(Data(64, noiseSeed: 1));
        var (sameTime, sameMasked) = method.Noise(Data(64, noiseSeed: 1));
        var (otherTime, otherMasked) = method.Noise(Data(64, noiseSeed: 2));
        static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();
        Assert.True(Same(time, sameTime) && Same(masked, sameMasked));
        Assert.False(Same(time, otherTime));
        Assert.False(Same(masked, otherMasked));
    }

    [Theory]
    [InlineData(DiffusionAttention.Bidirectional, true, true)]
    [InlineData(DiffusionAttention.Causal, false, false)]
    [InlineData(DiffusionAttention.CausalPrefix, false, true)]
    public void A_later_target_token_reaches_the_prefix_and_earlier_targets_only_where_the_attention_lets_it(
        DiffusionAttention attention, bool prefixSees, bool earlierTargetsSee)
    {
        using var method = Build(attention: attention);
        var gpt = (Gpt)method.Model;
        var batch = Data(8);
        var input = cat([batch.Prefix, batch.Target], 1);
        var changed = input.clone();
        int last = Task.PrefixLength + Task.TargetLength - 1;
        changed[TensorIndex.Colon, last] = (changed[TensorIndex.Colon, last] + 1) % Task.Nodes;
        var change = (gpt.Hidden(input) - gpt.Hidden(changed)).abs().amax([0, 2]); // (P + T,) largest change per position
        double prefixChange = change.narrow(0, 0, Task.PrefixLength).max().item<float>();
        double targetChange = change.narrow(0, Task.PrefixLength, Task.TargetLength - 1).max().item<float>();
        Assert.Equal(prefixSees, prefixChange > 1e-4);
        Assert.Equal(earlierTargetsSee, targetChange > 1e-4);
        if (!prefixSees) Assert.Equal(0, prefixChange, 5);
        if (!earlierTargetsSee) Assert.Equal(0, targetChange, 5);
    }

    [Fact]
    public void Diffusion_rejects_a_narrowed_loss_and_negative_steps()
    {
        Assert.ThrowsAny<UserError>(() => MethodRegistry.Create("diffusion", new MethodContext(Task, new ModelSize(1, 16, 2), LossPositions.FirstDecision)));
        Assert.Equal("diffusion.steps must not be negative (0: one step per target token), got -1",
            Assert.ThrowsAny<UserError>(() => Build(steps: -1)).Message);
    }
}
