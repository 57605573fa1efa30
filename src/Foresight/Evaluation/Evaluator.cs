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
    double[] TeacherForcedPerPosition,
    DistanceAccuracy[]? ByPlanningDistance = null,
    CreativityMetrics? Creativity = null)
{
    /// <summary>Lower end of the Wilson 95% interval of <see cref="ExactMatch"/> over the test examples.</summary>
    public double ExactMatchLow95 => Statistics.Wilson95(ExactMatch, Examples).Low;

    /// <summary>Upper end of the Wilson 95% interval of <see cref="ExactMatch"/>.</summary>
    public double ExactMatchHigh95 => Statistics.Wilson95(ExactMatch, Examples).High;
}

/// <summary>Exact match of the test examples at one planning distance (tasks that have one).</summary>
public sealed record DistanceAccuracy(int Distance, int Examples, double ExactMatch);

/// <summary>
/// Scores a method on a data set: greedy decoding (exact match, per position) and teacher forcing; on an open-ended task
/// also the creativity of the answers it generates for the data's prompts, against the answers of <paramref name="memory"/>.
/// </summary>
public static class Evaluator
{
    /// <summary>Seeds the draws of an open-ended task's answers: fixed, so an evaluation (and a resumed run's) repeats exactly.</summary>
    public const ulong SamplingSeed = 20250421;

    public static EvalMetrics Evaluate(ITrainingMethod method, ITask task, TokenDataset data, int limit = int.MaxValue, int batchSize = 500,
        AnswerMemory? memory = null)
    {
        int count = Math.Min(limit, data.Count);
        int targetLength = data.TargetLength;
        var decodedCorrect = new long[targetLength];
        var forcedCorrect = new long[targetLength];
        long exact = 0;
        var planning = task as IPlanningDistanceTask;
        var byDistance = new (long Examples, long Exact)[(planning?.MaxPlanningDistance ?? -1) + 1];
        long decisions = 0, decisionsRight = 0;
        var openEnded = task as IOpenEndedTask;
        var creativity = openEnded is null ? null : new CreativityScore(openEnded, memory ?? AnswerMemory.Empty);
        using var generator = openEnded is null ? null : new Generator(SamplingSeed);

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
                if (planning is not null) CountByExample(planning, batch, decoded, byDistance, ref decisions, ref decisionsRight);
                if (creativity is not null) Score(creativity, method.Sample(batch.Prefix, openEnded!.Temperature, generator!));
            }
        }

        double[] perPosition = decodedCorrect.Select(c => (double)c / count).ToArray();
        double[] forcedPerPosition = forcedCorrect.Select(c => (double)c / count).ToArray();
        return new EvalMetrics(
            Examples: count,
            ExactMatch: (double)exact / count,
            FirstDecisionAccuracy: planning is null ? perPosition[task.FirstDecisionPosition] : decisions == 0 ? double.NaN : (double)decisionsRight / decisions,
            FirstDecisionChance: task.FirstDecisionChance,
            PerPositionAccuracy: perPosition,
            TeacherForcedAccuracy: forcedPerPosition.Average(),
            TeacherForcedPerPosition: forcedPerPosition,
            ByPlanningDistance: planning is null ? null
                : [.. byDistance.Select((d, i) => new DistanceAccuracy(i, (int)d.Examples, d.Examples == 0 ? double.NaN : (double)d.Exact / d.Examples))],
            Creativity: creativity?.Result());
    }

    private static void Score(CreativityScore score, Tensor answers)
    {
        long[] tokens = answers.contiguous().data<long>().ToArray();
        int length = (int)answers.shape[1];
        var answer = new int[length];
        for (int r = 0; r < (int)answers.shape[0]; r++)
        {
            for (int j = 0; j < length; j++) answer[j] = (int)tokens[r * length + j];
            score.Add(answer);
        }
    }

    /// <summary>Exact match per planning distance, and the decision (wherever the example has it) right or not.</summary>
    private static void CountByExample(IPlanningDistanceTask task, Batch batch, Tensor decoded, (long Examples, long Exact)[] byDistance, ref long decisions, ref long right)
    {
        bool[] correct = decoded.contiguous().data<bool>().ToArray(); // (B * T)
        int t = task.TargetLength;
        var examples = batch.Examples();
        for (int i = 0; i < examples.Count; i++)
        {
            var example = examples[i];
            var row = correct.AsSpan(i * t, t);
            int distance = task.PlanningDistance(example);
            byDistance[distance].Examples++;
            if (!row.Contains(false)) byDistance[distance].Exact++;
            if (task.Decision(example) is not { } decision) continue;
            decisions++;
            if (!row[decision].Contains(false)) right++;
        }
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
