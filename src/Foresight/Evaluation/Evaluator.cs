using Foresight.Methods;
using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Evaluation;

/// <summary>What one evaluation measured. Accuracies are fractions in [0, 1]; positions are target indices.</summary>
public sealed record EvalMetrics(
    int Examples,
    double ExactMatch,
    double FirstDecisionAccuracy,
    double FirstDecisionChance,
    double[] PerPositionAccuracy,
    double TeacherForcedAccuracy,
    double[] TeacherForcedPerPosition)
{
    /// <summary>Lower end of the Wilson 95% interval of <see cref="ExactMatch"/> over the test examples.</summary>
    public double ExactMatchLow95 => Statistics.Wilson95(ExactMatch, Examples).Low;

    /// <summary>Upper end of the Wilson 95% interval of <see cref="ExactMatch"/>.</summary>
    public double ExactMatchHigh95 => Statistics.Wilson95(ExactMatch, Examples).High;
}

/// <summary>Scores a method on a data set: greedy decoding (exact match, per position) and teacher forcing.</summary>
public static class Evaluator
{
    public static EvalMetrics Evaluate(ITrainingMethod method, ITask task, TokenDataset data, int limit = int.MaxValue, int batchSize = 500)
    {
        int count = Math.Min(limit, data.Count);
        int targetLength = data.TargetLength;
        var decodedCorrect = new long[targetLength];
        var forcedCorrect = new long[targetLength];
        long exact = 0;

        using (Inference(method.Model))
        {
            for (int start = 0; start < count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var batch = data.Slice(start, Math.Min(batchSize, count - start));
                var decoded = method.Decode(batch.Prefix).eq(batch.Target); // (B, T)
                var forced = method.TeacherForced(batch).eq(batch.Target);   // (B, T)
                exact += decoded.all(1).sum().item<long>();
                Accumulate(decodedCorrect, decoded);
                Accumulate(forcedCorrect, forced);
            }
        }

        double[] perPosition = decodedCorrect.Select(c => (double)c / count).ToArray();
        double[] forcedPerPosition = forcedCorrect.Select(c => (double)c / count).ToArray();
        return new EvalMetrics(
            Examples: count,
            ExactMatch: (double)exact / count,
            FirstDecisionAccuracy: perPosition[task.FirstDecisionPosition],
            FirstDecisionChance: task.FirstDecisionChance,
            PerPositionAccuracy: perPosition,
            TeacherForcedAccuracy: forcedPerPosition.Average(),
            TeacherForcedPerPosition: forcedPerPosition);
    }

    /// <summary>Eval mode and no gradients until disposed; then the model's mode is what it was.</summary>
    internal static IDisposable Inference(TorchSharp.torch.nn.Module model) => new InferenceMode(model);

    private sealed class InferenceMode : IDisposable
    {
        private readonly TorchSharp.torch.nn.Module _model;
        private readonly bool _wasTraining;
        private readonly IDisposable _noGrad = no_grad();

        public InferenceMode(TorchSharp.torch.nn.Module model)
        {
            (_model, _wasTraining) = (model, model.training);
            model.eval();
        }

        public void Dispose()
        {
            _model.train(_wasTraining);
            _noGrad.Dispose();
        }
    }

    /// <summary>Adds the column sums of a (B, T) boolean tensor to per-position totals.</summary>
    internal static void Accumulate(long[] totals, Tensor correct)
    {
        long[] counts = correct.sum(0, type: ScalarType.Int64).data<long>().ToArray();
        for (int i = 0; i < totals.Length; i++) totals[i] += counts[i];
    }
}
