using Foresight.Methods;
using Foresight.Models;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Tests;

/// <summary>What each objective feeds the model and which positions its loss covers.</summary>
public sealed class MethodTests
{
    private static readonly PathStarTask Task = new(2, 4, 20);
    private static readonly ModelSize Size = new(Layers: 1, Width: 32, Heads: 2);

    private static (ITrainingMethod Method, Batch Batch) Build(string name, int examples = 8, LossPositions positions = LossPositions.All)
    {
        manual_seed(0);
        var method = MethodRegistry.Create(name, new MethodContext(Task, Size, positions));
        var data = TokenDataset.Generate(Task, examples, SeededRandom.For(0, "methods"));
        return (method, data.Slice(0, examples));
    }

    private static Gpt Model(ITrainingMethod method) => (Gpt)method.Model;

    private static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();

    [Fact]
    public void Registry_lists_the_methods_and_rejects_unknown_names()
    {
        Assert.Equal(["bst", "diffusion", "grpo", "mtp", "nextlat", "ntp", "reverse", "teacherless"], MethodRegistry.Names);
        var error = Assert.ThrowsAny<UserError>(() => MethodRegistry.Validate("ntq"));
        Assert.Equal("unknown method 'ntq' (known: bst, diffusion, grpo, mtp, nextlat, ntp, reverse, teacherless)", error.Message);
    }

    [Theory]
    [InlineData("ntp", 128, 1e-3)]
    [InlineData("diffusion", 256, 5e-4)]
    [InlineData("grpo", 32, 1e-4)] // prompts per step, each answered --grpo-group-size times
    public void A_method_keeps_its_own_batch_size_and_rate_unless_they_are_given(string name, int batchSize, double learningRate)
    {
        var shared = new TrainingConfig(BatchSize: 128, LearningRate: 1e-3);
        var own = shared.WithOwnDefaults(name, batchSizeGiven: false, learningRateGiven: false);
        Assert.Equal((batchSize, learningRate), (own.BatchSize, own.LearningRate));
        var given = (shared with { BatchSize = 64, LearningRate = 3e-3 }).WithOwnDefaults(name, batchSizeGiven: true, learningRateGiven: true);
        Assert.Equal((64, 3e-3), (given.BatchSize, given.LearningRate));
    }

    [Theory]
    [InlineData("ntp", false)]
    [InlineData("reverse", true)]
    public void Autoregressive_loss_is_cross_entropy_on_target_tokens_only(string name, bool reversed)
    {
        var (method, batch) = Build(name);
        using var _ = method;
        var target = reversed ? batch.Target.flip(1) : batch.Target;
        int p = Task.PrefixLength, t = Task.TargetLength;
        var input = cat([batch.Prefix, target.narrow(1, 0, t - 1)], 1);
        var logits = Model(method).forward(input).narrow(1, p - 1, t);
        var expected = F.cross_entropy(logits.flatten(0, 1), target.flatten());
        Assert.Equal(expected.item<float>(), method.Loss(batch).item<float>(), 5);
    }

    [Fact]
    public void Teacherless_inputs_hide_every_target_token()
    {
        var (method, batch) = Build("teacherless");
        using var _ = method;
        int p = Task.PrefixLength, t = Task.TargetLength;
        var fillers = full(batch.Size, t - 1, Task.FillerToken, dtype: ScalarType.Int64);
        var logits = Model(method).forward(cat([batch.Prefix, fillers], 1)).narrow(1, p - 1, t);
        var expected = F.cross_entropy(logits.flatten(0, 1), batch.Target.flatten());
        Assert.Equal(expected.item<float>(), method.Loss(batch).item<float>(), 5);

        // Its predictions cannot depend on the true target: scrambling it changes nothing.
        var scrambled = batch with { Target = batch.Target.flip(0) };
        Assert.True(Same(method.TeacherForced(batch), method.TeacherForced(scrambled)));
        Assert.True(Same(method.TeacherForced(batch), method.Decode(batch.Prefix)));
    }

    [Fact]
    public void Teacher_forced_prediction_at_a_position_sees_only_earlier_targets()
    {
        var (method, batch) = Build("ntp");
        using var _ = method;
        var before = method.TeacherForced(batch);
        var changed = batch.Target.clone();
        changed[TensorIndex.Colon, 2] = (changed[TensorIndex.Colon, 2] + 1) % Task.Nodes;
        var after = method.TeacherForced(batch with { Target = changed });
        Assert.True(Same(before.narrow(1, 0, 3), after.narrow(1, 0, 3))); // positions 0..2 are predicted before target[2] is seen
    }

    [Theory]
    [InlineData("ntp")]
    [InlineData("reverse")]
    [InlineData("teacherless")]
    [InlineData("mtp")]
    [InlineData("bst")]
    [InlineData("nextlat")]
    public void Decode_returns_one_token_per_target_position_in_task_order(string name)
    {
        var (method, batch) = Build(name);
        using var _ = method;
        var decoded = method.Decode(batch.Prefix);
        Assert.Equal([batch.Size, Task.TargetLength], decoded.shape);
        Assert.Equal(ScalarType.Int64, decoded.dtype);
    }

    [Fact]
    public void Reverse_decodes_goal_first_and_reports_the_path_source_first()
    {
        // The first token the model writes is the goal end of the path, so it must come back last.
        var (method, batch) = Build("reverse");
        using var _ = method;
        var decodedInTaskOrder = method.Decode(batch.Prefix);
        var model = Model(method);
        var firstWritten = model.forward(batch.Prefix).select(1, -1).argmax(-1); // the goal slot
        Assert.True(Same(decodedInTaskOrder.select(1, Task.TargetLength - 1), firstWritten));
    }

    [Theory]
    [InlineData("ntp")]
    [InlineData("reverse")]
    [InlineData("teacherless")]
    public void First_decision_loss_is_the_cross_entropy_of_that_one_task_order_position(string name)
    {
        var (method, batch) = Build(name, positions: LossPositions.FirstDecision);
        using var _ = method;
        int p = Task.PrefixLength, t = Task.TargetLength;
        // Where the first decision (task position 1) sits in the sequence the model is trained on.
        var (input, slot) = name switch
        {
            "ntp" => (cat([batch.Prefix, batch.Target.narrow(1, 0, t - 1)], 1), 1),
            "reverse" => (cat([batch.Prefix, batch.Target.flip(1).narrow(1, 0, t - 1)], 1), t - 2),
            _ => (cat([batch.Prefix, full(batch.Size, t - 1, Task.FillerToken, dtype: ScalarType.Int64)], 1), 1),
        };
        var logits = Model(method).forward(input).select(1, p - 1 + slot); // (B, V)
        var expected = F.cross_entropy(logits, batch.Target.select(1, Task.FirstDecisionPosition));
        Assert.Equal(expected.item<float>(), method.Loss(batch).item<float>(), 5);
    }
}
