using Foresight.Methods;
using Foresight.Models;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;
using static TorchSharp.torch;

namespace Foresight.Tests;

/// <summary>GRPO's advantages and objective on hand-made tensors, and a fine-tuning run started from a saved ntp run.</summary>
public sealed class GrpoTests
{
    [Fact]
    public void Group_advantages_sum_to_zero_and_vanish_when_a_group_agrees()
    {
        var rewards = tensor(new float[,] { { 1, 0, 0, 1 }, { 0, 0, 0, 0 }, { 1, 1, 1, 0 } });
        var advantages = Grpo.GroupAdvantages(rewards);
        foreach (float sum in advantages.sum(1).data<float>().ToArray()) Assert.Equal(0f, sum, 5);
        Assert.All(advantages[1].data<float>().ToArray(), a => Assert.Equal(0f, a));
        // (1 - 0.5) / sqrt(1/3), the sample standard deviation of 1, 0, 0, 1
        Assert.Equal(0.5 / Math.Sqrt(1.0 / 3), advantages[0, 0].item<float>(), 3);
        Assert.True(advantages[2, 3].item<float>() < 0 && advantages[2, 0].item<float>() > 0);
    }

    private static Tensor Gradient(Tensor logProbs, Tensor sampling, Tensor reference, Tensor advantages, double klWeight = 0)
    {
        var leaf = logProbs.detach().requires_grad_(true);
        Grpo.Objective(leaf, sampling, reference, advantages, clip: 0.2, klWeight).backward();
        return leaf.grad!;
    }

    [Fact]
    public void On_policy_the_objective_is_the_advantage_weighted_log_likelihood()
    {
        var logProbs = tensor(new float[,] { { -0.1f, -2f }, { -0.5f, -1f } }); // (2 answers, 2 tokens)
        var advantages = tensor(new float[,] { { 1f }, { -1f } });
        Assert.Equal(0f, Grpo.Objective(logProbs, logProbs, logProbs, advantages, 0.2, 0.04).item<float>(), 6); // mean advantage 0, KL 0
        var gradient = Gradient(logProbs, logProbs, logProbs, advantages);
        // d/d log π of -mean(ρ A) at ρ = 1 is -A / (answers x tokens)
        Assert.Equal(new[] { -0.25f, -0.25f, 0.25f, 0.25f }, gradient.data<float>().ToArray());
    }

    [Fact]
    public void The_clip_stops_the_gradient_once_the_ratio_has_moved_far_enough_in_the_advantages_direction()
    {
        var sampling = tensor(new float[,] { { -1f }, { -1f } });
        var moved = sampling + MathF.Log(1.5f); // ratio 1.5 > 1 + 0.2
        var gradient = Gradient(moved, sampling, moved, tensor(new float[,] { { 1f }, { -1f } })).data<float>().ToArray();
        Assert.Equal(0f, gradient[0]);           // positive advantage, ratio above 1 + ε: clipped, no push further
        Assert.Equal(0.5f * 1.5f, gradient[1], 5); // negative advantage: min picks the unclipped term, ρ A / 2 answers
    }

    [Fact]
    public void The_kl_penalty_is_zero_at_the_reference_and_pulls_back_towards_it()
    {
        var reference = tensor(new float[,] { { -1f } });
        var zero = tensor(new float[,] { { 0f } });
        Assert.Equal(0f, Grpo.Objective(reference, reference, reference, zero, 0.2, 1).item<float>(), 6);
        var above = reference + 0.5f; // the model makes the token likelier than the reference does
        Assert.True(Grpo.Objective(above, above, reference, zero, 0.2, 1).item<float>() > 0);
        Assert.True(Gradient(above, above, reference, zero, klWeight: 1).item<float>() > 0); // descent lowers log π towards the reference
    }

    // One arm of one step: the answer is the source and the goal, which the prompt names. A tiny ntp model
    // learns it in seconds, so answers sampled hot are right and wrong by turns and the rewards disagree. G(1,2,4)
    // has 12 problems, too few to hold a test set apart: its sets are independent streams (what is tested here is
    // the fine-tuning, not generalisation).
    private static readonly PathStarTask Task = new(1, 2, 4);
    private static readonly ModelSize Tiny = new(Layers: 1, Width: 32, Heads: 2);

    private static void TrainNtp(string directory)
    {
        var config = new RunConfig("ntp", Task.Spec, Tiny, new TrainingConfig(TrainSamples: 1024, TestSamples: 64, BatchSize: 64, WarmupSteps: 4, EvalSamples: 64, Seed: 3,
            TestSet: TestSetDraw.Independent));
        var (train, test) = Trainer.MakeData(Task, config.Training);
        using (train)
        using (test)
            Trainer.Train(config, train, test, RunDirectory.Create(directory));
    }

    private static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();

    /// <summary>grpo as the trainer builds it: the run it starts from is found, checked and handed over in its context.</summary>
    private static Grpo Build(string init, ModelSize? size = null) =>
        (Grpo)Trainer.BuildMethod(new RunConfig("grpo", Task.Spec, size ?? Tiny, new TrainingConfig(), new GrpoOptions { Init = init, GroupSize = 4, Temperature = 4 }));

    [Fact]
    public void Fine_tuning_starts_from_the_init_run_moves_the_model_and_never_reads_the_target()
    {
        using var temp = new TempDirectory();
        TrainNtp(temp["ntp"]);
        using var grpo = Build(temp["ntp"]);
        var (_, _, ntp) = Trainer.LoadTrained(RunDirectory.Open(temp["ntp"]));
        using var _ = ntp;
        using var data = TokenDataset.Generate(Task, 16, SeededRandom.For(0, "grpo"));
        var batch = data.Slice(0, 16) with { NoiseSeed = 11 };

        using (no_grad()) Assert.True(Same(grpo.Decode(batch.Prefix), ntp.Decode(batch.Prefix)));
        var blind = batch with { Target = zeros_like(batch.Target) };
        Assert.Equal(grpo.Loss(batch).item<float>(), grpo.Loss(blind).item<float>());
        Assert.True(grpo.LastStep["reward"] is > 0 and < 1); // hot samples: some right, some wrong
        Assert.True(grpo.LastStep["signal"] > 0);             // so some groups disagree and carry a gradient

        var before = grpo.Model.parameters().Select(p => p.detach().clone()).ToList();
        using var optimizer = optim.SGD(grpo.Model.parameters(), 1.0);
        for (int step = 0; step < 3; step++)
        {
            optimizer.zero_grad();
            grpo.Loss(batch with { NoiseSeed = step }).backward();
            optimizer.step();
        }
        Assert.Contains(grpo.Model.parameters().Zip(before), pair => !Same(pair.First, pair.Second));
        Assert.Equal(1.0, Search.SearchDecoding.Evaluate(grpo, Task, data, new Search.Backtracking(100)).ExactMatch); // search decodes the fine-tuned model
    }

    [Fact]
    public void An_init_run_of_another_model_or_method_is_a_one_line_error()
    {
        using var temp = new TempDirectory();
        TrainNtp(temp["ntp"]);
        var error = Assert.ThrowsAny<UserError>(() => Build(temp["ntp"], new ModelSize(Layers: 2, Width: 32, Heads: 2)));
        Assert.Contains("its model is 1 x 32", error.Message);
        Assert.Contains("grpo.init is missing", Assert.ThrowsAny<UserError>(() => MethodRegistry.Create("grpo", new MethodContext(Task, Tiny))).Message);
        Assert.Contains("does not exist", Assert.ThrowsAny<UserError>(() => Build(temp["nowhere"])).Message);
    }
}
