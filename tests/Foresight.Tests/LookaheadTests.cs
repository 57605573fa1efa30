using Foresight.Methods;
using Foresight.Models;
using Foresight.Tasks;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Tests;

/// <summary>The lookahead objectives' losses on hand-made inputs: mtp, bst and nextlat.</summary>
public sealed class LookaheadTests
{
    private static readonly PathStarTask Task = new(2, 5, 20);
    private static readonly ModelSize Size = new(Layers: 2, Width: 32, Heads: 2);

    private static T Build<T>(string name, IMethodOptions? options = null) where T : ITrainingMethod
    {
        manual_seed(0);
        return (T)MethodRegistry.Create(name, new MethodContext(Task, Size, Options: options));
    }

    private static Batch Data(int examples = 8)
    {
        var data = TokenDataset.Generate(Task, examples, SeededRandom.For(0, "lookahead"));
        return data.Slice(0, examples);
    }

    private static float Value(Tensor t) => t.item<float>();

    [Fact]
    public void Mtp_head_init_gpt2_starts_the_extra_heads_as_the_trunks_blocks_and_torch_keeps_libtorchs_defaults()
    {
        double Std(ITrainingMethod method, string suffix) => method.Model.named_parameters().Where(x => x.name.StartsWith("heads.") && x.name.EndsWith(suffix))
            .Select(x => x.parameter.std().item<float>()).Average();
        using var gpt2 = Build<MultiToken>("mtp", new MtpOptions { HeadInit = MtpHeadInit.Gpt2 });
        using var torchDefault = Build<MultiToken>("mtp");
        Assert.InRange(Std(gpt2, "attention.qkv.weight"), 0.018, 0.022);
        Assert.InRange(Std(gpt2, "attention.output_projection.weight"), 0.018 / 2, 0.022 / 2); // 0.02 / sqrt(2 x 2 layers)
        Assert.Equal(0, gpt2.Model.named_parameters().Where(x => x.name.StartsWith("heads.") && x.name.EndsWith(".bias")).Sum(x => x.parameter.abs().sum().item<float>()));
        Assert.InRange(Std(torchDefault, "attention.qkv.weight"), 0.08, 0.12); // Kaiming-uniform at fan-in 32: 1 / sqrt(3 x 32)
        // the trunk is the same model either way: its draws come first
        var trunk = (MultiToken m) => m.Model.named_parameters().Where(x => x.name.StartsWith("gpt.")).Select(x => x.parameter.sum().item<float>()).ToList();
        Assert.Equal(trunk(torchDefault), trunk(gpt2));
    }

    [Fact]
    public void Mtp_head_k_at_each_position_is_scored_against_the_token_k_ahead()
    {
        using var method = Build<MultiToken>("mtp");
        var batch = Data();
        int p = Task.PrefixLength, t = Task.TargetLength;
        var sequence = cat([batch.Prefix, batch.Target], 1); // (B, P + T): token at sequence index P + i is target[i]
        manual_seed(1);
        var hidden = randn(batch.Size, p + t - 1, Size.Width); // stands in for any head's output
        var unembedding = method.Model.named_parameters().Single(x => x.name == "gpt.token_embedding.weight").parameter;
        for (int k = 1; k <= method.Heads; k++)
        {
            // Spelled out in sequence indices: every position from '=' (P - 1) whose k-th successor is still in the answer.
            var terms = new List<Tensor>();
            for (int position = p - 1; position + k <= p + t - 1; position++)
                terms.Add(F.cross_entropy(F.linear(hidden.select(1, position), unembedding), sequence.select(1, position + k), reduction: nn.Reduction.None));
            var expected = cat(terms, 0).mean();
            Assert.Equal(Value(expected), Value(method.HeadLoss(hidden, batch.Target, ahead: k)), 5);
        }
    }

    [Fact]
    public void Mtp_with_one_head_is_next_token_prediction()
    {
        using var mtp = Build<MultiToken>("mtp", new MtpOptions { Heads = 1 });
        using var ntp = Build<NextToken>("ntp");
        var batch = Data();
        Assert.Equal(Value(ntp.Loss(batch)), Value(mtp.Loss(batch)), 5);
    }

    [Fact]
    public void Mtp_loss_is_the_sum_over_heads_and_the_extra_heads_are_trained()
    {
        using var one = Build<MultiToken>("mtp", new MtpOptions { Heads = 1 });
        using var four = Build<MultiToken>("mtp", new MtpOptions { Heads = 4 });
        var batch = Data();
        // Same GPT initialisation, so the difference is heads 2..4, each a cross-entropy near ln V at initialisation.
        double extra = Value(four.Loss(batch)) - Value(one.Loss(batch));
        Assert.InRange(extra, 3 * Math.Log(Task.VocabularySize) - 1.5, 3 * Math.Log(Task.VocabularySize) + 1.5);
        Assert.Equal(3, four.Model.named_children().Single(c => c.name == "heads").module.children().Count());
        four.Loss(batch).backward();
        var headGradients = four.Model.named_parameters().Where(x => x.name.StartsWith("heads.")).ToList();
        Assert.NotEmpty(headGradients);
        Assert.All(headGradients, x => Assert.True(x.parameter.grad is { } g && g.abs().sum().item<float>() > 0, x.name));
    }

    [Fact]
    public void Mtp_rejects_more_heads_than_answer_tokens()
    {
        var error = Assert.ThrowsAny<UserError>(() => Build<MultiToken>("mtp", new MtpOptions { Heads = 6 }));
        Assert.Equal("mtp.heads 6 exceeds the answer length 5: head k needs a target k tokens after the last prefix token", error.Message);
    }

    [Fact]
    public void Bst_pairs_cover_every_prefix_suffix_gap_of_two_or_more_once()
    {
        int p = Task.PrefixLength, t = Task.TargetLength;
        var pairs = BeliefState.Pairs(t).Select(x => (Prefix: p - 1 + x.Forward, Suffix: p + t - x.Backward)).ToList();
        // s = prefix + target + '$': the prefix ends at '=' (P - 1) or later, the suffix starts after the '=' and ends with '$' (P + T).
        var expected = new List<(int, int)>();
        for (int end = p - 1; end <= p + t; end++)
            for (int start = end + 2; start <= p + t; start++)
                expected.Add((end, start));
        Assert.Equal(expected.Order(), pairs.Order());
        Assert.Equal(t * (t + 1) / 2, pairs.Count);
    }

    [Fact]
    public void Bst_backward_state_j_reads_the_suffix_from_the_end_marker_back_and_predicts_the_token_before_it()
    {
        using var method = Build<BeliefState>("bst");
        var batch = Data(2);
        int p = Task.PrefixLength, t = Task.TargetLength;
        var sequence = cat([batch.Prefix, batch.Target, full(batch.Size, 1, Task.FillerToken, dtype: ScalarType.Int64)], 1); // s, (B, P + T + 1)
        var backward = method.BackwardInput(batch.Target); // (B, T)
        foreach (var (i, j) in BeliefState.Pairs(t))
        {
            int u = p + t - j;
            // A causal encoder over the backward input sees positions 0..j: exactly s[u..P+T], last first.
            for (int k = 0; k <= j; k++)
                Assert.True(backward.select(1, k).eq(sequence.select(1, p + t - k)).all().item<bool>());
            // The pair's targets, as the loss indexes them, are s[t + 1] and s[u - 1].
            Assert.True(batch.Target.select(1, i).eq(sequence.select(1, p - 1 + i + 1)).all().item<bool>());
            Assert.True(batch.Target.select(1, t - 1 - j).eq(sequence.select(1, u - 1)).all().item<bool>());
        }
    }

    [Fact]
    public void Bst_loss_is_near_ln_V_at_initialisation_and_reaches_both_encoders_and_the_head()
    {
        using var method = Build<BeliefState>("bst");
        var batch = Data();
        var loss = method.Loss(batch);
        Assert.InRange(Value(loss), Math.Log(Task.VocabularySize) - 0.5, Math.Log(Task.VocabularySize) + 0.5);
        loss.backward();
        foreach (string part in new[] { "forward.", "backward.", "head." })
        {
            var gradients = method.Model.named_parameters().Where(x => x.name.StartsWith(part)).ToList();
            Assert.NotEmpty(gradients);
            Assert.Contains(gradients, x => x.parameter.grad is { } g && g.abs().sum().item<float>() > 0);
        }
    }

    [Fact]
    public void Nextlat_latent_targets_carry_no_gradient()
    {
        using var method = Build<NextLatent>("nextlat");
        int t = Task.TargetLength;
        manual_seed(2);
        var hidden = randn(4, t, Size.Width).requires_grad_(); // states at '=' and the T - 1 target inputs
        var tokens = randint(0, Task.Nodes, [4, t]);
        var (latent, kl) = method.LatentTerms(hidden, tokens, klFrom: 0);
        (latent + kl).backward();
        var gradient = hidden.grad!;
        // The last state is only ever a target (stop-gradient); every earlier one is also a prediction's input.
        Assert.Equal(0f, gradient.select(1, t - 1).abs().sum().item<float>());
        for (int i = 0; i < t - 1; i++) Assert.True(gradient.select(1, i).abs().sum().item<float>() > 0, $"state {i}");
    }

    [Fact]
    public void Nextlat_rollout_k_is_scored_against_the_state_k_ahead()
    {
        // The residual ψ starts as the identity (its last layer is zero), so the rollout from state i predicts h(i)
        // for every k, and each term can be computed by hand from the states alone.
        using var method = Build<NextLatent>("nextlat", new NextlatOptions { Horizon = 3, Dynamics = NextlatDynamics.Residual });
        manual_seed(4);
        long length = 7;
        int klFrom = 4;
        var states = randn(2, length, Size.Width);
        var tokens = randint(0, Task.Nodes, [2, length]);
        var (latent, kl) = method.LatentTerms(states, tokens, klFrom);
        var unembedding = method.Model.named_parameters().Single(x => x.name == "gpt.token_embedding.weight").parameter;
        float expectedLatent = 0, expectedKl = 0;
        for (int k = 1; k <= 3; k++)
        {
            var from = states.narrow(1, 0, length - k);
            var target = states.narrow(1, k, length - k); // state i + k against the prediction from state i
            expectedLatent += Value(F.smooth_l1_loss(from, target)) / 3;
            var p = F.linear(target, unembedding).log_softmax(-1);
            var q = F.linear(from, unembedding).log_softmax(-1);
            var perState = (p.exp() * (p - q)).sum(-1); // (B, L - k): target states k..L-1
            expectedKl += Value(perState.narrow(1, klFrom - k, length - klFrom).mean()) / 3; // only targets from klFrom on
        }
        Assert.Equal(expectedLatent, Value(latent), 5);
        Assert.Equal(expectedKl, Value(kl), 5);
    }

    [Fact]
    public void Nextlat_kl_is_zero_when_the_predicted_state_gives_the_true_distribution_and_leaves_the_output_layer_alone()
    {
        using var method = Build<NextLatent>("nextlat");
        manual_seed(3);
        var states = randn(2, 3, Size.Width);
        Assert.Equal(0f, Value(method.TokenKl(states, states)), 6);
        var predicted = states.flip(1).requires_grad_();
        var kl = method.TokenKl(states, predicted);
        Assert.True(Value(kl) > 0);
        kl.backward();
        Assert.True(predicted.grad!.abs().sum().item<float>() > 0);
        var unembedding = method.Model.named_parameters().Single(x => x.name == "gpt.token_embedding.weight").parameter;
        Assert.True(unembedding.grad is null || unembedding.grad.abs().sum().item<float>() == 0);
    }

    [Fact]
    public void Nextlat_with_zero_weights_is_next_token_prediction()
    {
        using var nextlat = Build<NextLatent>("nextlat", new NextlatOptions { LatentWeight = 0, KlWeight = 0 });
        using var ntp = Build<NextToken>("ntp");
        var batch = Data();
        Assert.Equal(Value(ntp.Loss(batch)), Value(nextlat.Loss(batch)), 5);
        using var weighted = Build<NextLatent>("nextlat", new NextlatOptions { LatentWeight = 2, KlWeight = 3 });
        var (total, nextToken, latent, kl) = weighted.Losses(batch);
        Assert.Equal(Value(nextToken + 2 * latent + 3 * kl), Value(total), 5);
    }

    [Theory]
    [InlineData("mtp")]
    [InlineData("bst")]
    [InlineData("nextlat")]
    public void Lookahead_methods_refuse_a_narrowed_loss(string name)
    {
        var error = Assert.ThrowsAny<UserError>(() => MethodRegistry.Create(name, new MethodContext(Task, Size, LossPositions.FirstDecision)));
        Assert.EndsWith("; --loss-positions applies to ntp, reverse and teacherless", error.Message);
    }
}
